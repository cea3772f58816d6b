// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/map_file.h"

/* Maps a whole file read-only; the loaders parse it in place. */
int map_file(const char *what, const char *path, const uint8_t **data,
	     size_t *size)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pr_err("cannot read %s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		pr_err("%s '%s' is %s", what, path,
		       S_ISDIR(st.st_mode) ? "a directory" :
		       !S_ISREG(st.st_mode) ? "not a regular file" : "empty");
		close(fd);
		return -EINVAL;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		pr_err("cannot read %s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	*data = p;
	*size = st.st_size;
	return 0;
}

void unmap_file(const uint8_t *data, size_t size)
{
	if (data)
		munmap((void *)data, size);
}
