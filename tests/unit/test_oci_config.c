// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini oci: a bundle's config.json into an exec job. Every field
 * kvmini takes, its defaults, the relative root path, and one error line
 * naming the field for each bad type, missing field, bad value and
 * unsupported feature.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "oci/oci.h"

static char bundle[] = "/tmp/kvmini-oci-config.XXXXXX";
static char rootfs[PATH_MAX], data[PATH_MAX], file[PATH_MAX];
static const struct oci_ctx ctx = { .root = "/nonexistent" };

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(bundle));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", bundle);
	snprintf(data, sizeof(data), "%s/data", bundle);
	snprintf(file, sizeof(file), "%s/file", bundle);
	ck_assert_int_eq(mkdir(rootfs, 0755), 0);
	ck_assert_int_eq(mkdir(data, 0755), 0);
	ck_assert_int_eq(close(creat(file, 0644)), 0);
}

static void teardown(void)
{
	unlink(file);
	rmdir(data);
	rmdir(rootfs);
	rmdir(bundle);
	strcpy(bundle, "/tmp/kvmini-oci-config.XXXXXX");
}

struct parsed {
	int ret;
	char *out, *err;
	struct oci_spec spec;
};

static void parse(struct parsed *p, const char *json)
{
	struct unit_capture_std c;

	unit_capture_std_begin(&c);
	p->ret = oci_config_parse(&ctx, bundle, json, strlen(json), &p->spec);
	unit_capture_std_end(&c, &p->out, &p->err);
}

static void done(struct parsed *p)
{
	oci_spec_free(&p->spec);
	free(p->out);
	free(p->err);
}

/* A config with a process and a root, and then whatever else. */
#define CFG(process, root, ...)						\
	"{\"ociVersion\":\"1.0.2\",\"process\":" process ",\"root\":" root __VA_ARGS__ "}"
#define PROC	"{\"args\":[\"sh\",\"-c\",\"echo hi\"],\"cwd\":\"/\"}"
#define ROOT	"{\"path\":\"rootfs\"}"

static void expect_ok(struct parsed *p, const char *json)
{
	parse(p, json);
	ck_assert_msg(p->ret == 0, "ret %d, stderr: %s", p->ret, p->err);
	ck_assert_str_eq(p->err, "");
}

#define EXPECT_ERROR(culprit, json)					\
	do {								\
		struct parsed __p;					\
		parse(&__p, json);					\
		ck_assert_msg(__p.ret < 0, "accepted: %s", json);	\
		unit_check_error_line(__p.out, __p.err, culprit);	\
		done(&__p);						\
	} while (0)

/* process.terminal: the job on a terminal (oci.c sends the host pty's
 * master to --console-socket). */
START_TEST(test_oci_config_terminal)
{
	struct parsed p;

	expect_ok(&p, CFG("{\"args\":[\"sh\"],\"cwd\":\"/\",\"terminal\":true}", ROOT));
	ck_assert(p.spec.ec.tty);
	done(&p);
}
END_TEST

START_TEST(test_oci_config_minimal)
{
	struct parsed p;
	char *real = realpath(rootfs, NULL);
	const struct exec_config *ec = &p.spec.ec;

	expect_ok(&p, CFG(PROC, ROOT));
	ck_assert_int_eq(ec->argc, 3);
	ck_assert_str_eq(ec->argv[0], "sh");
	ck_assert_str_eq(ec->argv[2], "echo hi");
	ck_assert_ptr_null(ec->argv[3]);
	ck_assert_str_eq(ec->workdir, "/");
	ck_assert_int_eq(ec->root, EXEC_ROOT_DIR);
	ck_assert_str_eq(ec->root_dir, real);
	ck_assert(!ec->root_ro);
	ck_assert(!ec->has_user);
	ck_assert(!ec->tty);
	ck_assert_ptr_null(ec->hostname);
	ck_assert_uint_eq(ec->nr_env, 0);
	ck_assert_uint_eq(ec->nr_shares, 0);
	ck_assert_uint_eq(ec->nr_tmpfs, 0);
	ck_assert_uint_eq(ec->vm.mem, 512ULL << 20);
	ck_assert_uint_eq(ec->vm.cpus, 1);
	ck_assert_uint_eq(p.spec.nr_annotations, 0);
	/* From exec's snapshot cache, bounded as exec's is. */
	ck_assert(ec->snapshot);
	ck_assert_ptr_null(ec->snapshot_dir);
	ck_assert_uint_eq(ec->snapshot_limits.max_bytes, EXEC_CACHE_MAX_BYTES);
	ck_assert_uint_eq(ec->snapshot_limits.max_entries, EXEC_CACHE_MAX_ENTRIES);
	done(&p);
	expect_ok(&p, CFG(PROC, ROOT, ",\"annotations\":{\"org.kvmini.snapshot\":\"false\"}"));
	ck_assert(!ec->snapshot);
	done(&p);
	expect_ok(&p, CFG(PROC, ROOT, ",\"annotations\":{\"org.kvmini.snapshot\":\"true\"}"));
	ck_assert(ec->snapshot);
	done(&p);
	free(real);
}
END_TEST

START_TEST(test_oci_config_full)
{
	char json[16384];
	struct parsed p;
	char *real = realpath(data, NULL);
	const struct exec_config *ec = &p.spec.ec;

	/* An absolute root path; every field kvmini takes. */
	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.1.0\",\"hostname\":\"box\","
		 "\"process\":{\"terminal\":false,\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[]},"
		 "\"args\":[\"/bin/true\"],\"env\":[\"PATH=/bin\",\"A=b=c\"],\"cwd\":\"/work\","
		 "\"capabilities\":{\"bounding\":[\"CAP_KILL\"]},\"noNewPrivileges\":true},"
		 "\"root\":{\"path\":\"%s\",\"readonly\":true},"
		 "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		 "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
		 "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"data\",\"options\":[\"rbind\",\"ro\"]},"
		 "{\"destination\":\"/rw\",\"source\":\"%s\",\"options\":[\"bind\"]},"
		 "{\"destination\":\"/scratch\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}],"
		 "\"annotations\":{\"org.kvmini.mem\":\"1G\",\"org.kvmini.cpus\":\"3\",\"x\":\"y\"},"
		 "\"linux\":{\"namespaces\":[{\"type\":\"pid\"}],"
		 "\"resources\":{\"memory\":{\"limit\":134217728},\"cpu\":{\"quota\":50000,\"period\":100000}}},"
		 "\"hooks\":{\"prestart\":[]}}", rootfs, data);
	expect_ok(&p, json);
	ck_assert_str_eq(ec->hostname, "box");
	ck_assert(!ec->tty);
	ck_assert(ec->has_user);
	ck_assert_uint_eq(ec->uid, 1000);
	ck_assert_uint_eq(ec->gid, 100);
	ck_assert_uint_eq(ec->nr_groups, 0);
	ck_assert_int_eq(ec->argc, 1);
	ck_assert_uint_eq(ec->nr_env, 2);
	ck_assert_str_eq(ec->env[1], "A=b=c");
	ck_assert_str_eq(ec->workdir, "/work");
	ck_assert(ec->root_ro);
	ck_assert_uint_eq(ec->nr_shares, 2);
	ck_assert_str_eq(ec->shares[0].host, real);
	ck_assert_str_eq(ec->shares[0].guest, "/data");
	ck_assert(ec->shares[0].ro);
	ck_assert_str_eq(ec->shares[1].guest, "/rw");
	ck_assert(!ec->shares[1].ro);
	ck_assert_uint_eq(ec->nr_tmpfs, 1);
	ck_assert_str_eq(ec->tmpfs[0], "/scratch");
	/* The annotations win over the resources. */
	ck_assert_uint_eq(ec->vm.mem, 1ULL << 30);
	ck_assert_uint_eq(ec->vm.cpus, 3);
	ck_assert_uint_eq(p.spec.nr_annotations, 3);
	ck_assert_str_eq(p.spec.annotations[2].key, "x");
	ck_assert_str_eq(p.spec.annotations[2].value, "y");
	done(&p);
	free(real);
}
END_TEST

/* What podman and the kubelet bind into every container: files, each
 * bound alone from a share of files (ro and rw apart), and /dev/shm,
 * the guest's own. */
START_TEST(test_oci_config_engine_binds)
{
	char json[32768];
	struct parsed p;
	const struct exec_config *ec = &p.spec.ec;
	char *real = realpath(file, NULL);

	snprintf(json, sizeof(json), CFG(PROC, ROOT, ",\"mounts\":["
		 "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"bind\"]},"
		 "{\"destination\":\"/etc/hostname\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"ro\"]},"
		 "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"%s\"},"
		 "{\"destination\":\"/etc/resolv.conf\",\"type\":\"bind\",\"source\":\"%s\"},"
		 "{\"destination\":\"/dev/termination-log\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"ro\"]},"
		 "{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"%s\",\"options\":[\"bind\",\"rprivate\"]}]"),
		 file, file, data, file, file, data);
	expect_ok(&p, json);
	/* rw files, ro files, /data; no /dev/shm. */
	ck_assert_uint_eq(ec->nr_shares, 3);
	ck_assert(ec->shares[0].files && !ec->shares[0].ro);
	ck_assert(ec->shares[1].files && ec->shares[1].ro);
	ck_assert_ptr_null(ec->shares[1].host);	/* create's, under --root */
	ck_assert(!ec->shares[2].files);
	ck_assert_str_eq(ec->shares[2].guest, "/data");
	ck_assert_uint_eq(ec->nr_files, 4);
	ck_assert_uint_eq(ec->files[0].share, 0);
	ck_assert_uint_eq(ec->files[1].share, 1);
	ck_assert_uint_eq(ec->files[2].share, 0);
	ck_assert_uint_eq(ec->files[3].share, 1);
	ck_assert_str_eq(ec->files[3].guest, "/dev/termination-log");
	ck_assert_str_eq(ec->files[3].name, "3");
	ck_assert_str_eq(p.spec.file_src[2], real);
	done(&p);
	/* A directory there is the user's: shared as one. */
	snprintf(json, sizeof(json), CFG(PROC, ROOT, ",\"mounts\":[{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"%s\"}]"), data);
	expect_ok(&p, json);
	ck_assert_uint_eq(ec->nr_shares, 1);
	ck_assert_uint_eq(ec->nr_files, 0);
	done(&p);
	free(real);
	/* Neither a directory nor a file. */
	EXPECT_ERROR("neither a directory nor a regular file",
		     CFG(PROC, ROOT, ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/dev/null\"}]"));
}
END_TEST

START_TEST(test_oci_config_resources)
{
	struct parsed p;

	/* Limit rounded up to a MiB; quota / period rounded up. */
	expect_ok(&p, CFG(PROC, ROOT, ",\"linux\":{\"resources\":{\"memory\":{\"limit\":1073741000},"
			  "\"cpu\":{\"quota\":150000,\"period\":100000}}}"));
	ck_assert_uint_eq(p.spec.ec.vm.mem, 1ULL << 30);
	ck_assert_uint_eq(p.spec.ec.vm.cpus, 2);
	done(&p);
	/* No period: the kernel's 100 ms; unlimited memory: the default. */
	expect_ok(&p, CFG(PROC, ROOT, ",\"linux\":{\"resources\":{\"memory\":{\"limit\":-1},"
			  "\"cpu\":{\"quota\":400000}}}"));
	ck_assert_uint_eq(p.spec.ec.vm.mem, 512ULL << 20);
	ck_assert_uint_eq(p.spec.ec.vm.cpus, 4);
	done(&p);
}
END_TEST

START_TEST(test_oci_config_errors)
{
	EXPECT_ERROR("not valid JSON", "{");
	EXPECT_ERROR("not valid JSON", "{\"a\":1,}");
	EXPECT_ERROR("must hold an object", "[]");
	EXPECT_ERROR("ociVersion is missing", "{\"process\":" PROC ",\"root\":" ROOT "}");
	EXPECT_ERROR("ociVersion '2.0.0'", "{\"ociVersion\":\"2.0.0\",\"process\":" PROC ",\"root\":" ROOT "}");
	EXPECT_ERROR("ociVersion must be a string", "{\"ociVersion\":1,\"process\":" PROC ",\"root\":" ROOT "}");
	EXPECT_ERROR("process is missing", "{\"ociVersion\":\"1.0.0\",\"root\":" ROOT "}");
	EXPECT_ERROR("root is missing", "{\"ociVersion\":\"1.0.0\",\"process\":" PROC "}");
	EXPECT_ERROR("process must be an object", CFG("[]", ROOT));
	EXPECT_ERROR("process.args is missing", CFG("{\"cwd\":\"/\"}", ROOT));
	EXPECT_ERROR("process.args must be an array", CFG("{\"args\":\"sh\",\"cwd\":\"/\"}", ROOT));
	EXPECT_ERROR("process.args is empty", CFG("{\"args\":[],\"cwd\":\"/\"}", ROOT));
	EXPECT_ERROR("process.args[1] must be a string", CFG("{\"args\":[\"a\",2],\"cwd\":\"/\"}", ROOT));
	EXPECT_ERROR("process.args[0] must be a string", CFG("{\"args\":[\"a\\u0000b\"],\"cwd\":\"/\"}", ROOT));
	EXPECT_ERROR("process.cwd is missing", CFG("{\"args\":[\"a\"]}", ROOT));
	EXPECT_ERROR("process.cwd 'tmp'", CFG("{\"args\":[\"a\"],\"cwd\":\"tmp\"}", ROOT));
	EXPECT_ERROR("process.cwd '/a/../b'", CFG("{\"args\":[\"a\"],\"cwd\":\"/a/../b\"}", ROOT));
	EXPECT_ERROR("process.env[0] 'NOEQUALS'", CFG("{\"args\":[\"a\"],\"cwd\":\"/\",\"env\":[\"NOEQUALS\"]}", ROOT));
	EXPECT_ERROR("process.env[0] must be a string", CFG("{\"args\":[\"a\"],\"cwd\":\"/\",\"env\":[1]}", ROOT));
	EXPECT_ERROR("process.env must be an array", CFG("{\"args\":[\"a\"],\"cwd\":\"/\",\"env\":{}}", ROOT));
	EXPECT_ERROR("process.terminal must be a boolean", CFG("{\"args\":[\"a\"],\"cwd\":\"/\",\"terminal\":1}", ROOT));
	EXPECT_ERROR("process.user.uid", CFG("{\"args\":[\"a\"],\"cwd\":\"/\",\"user\":{\"uid\":-1}}", ROOT));
	EXPECT_ERROR("process.user.gid", CFG("{\"args\":[\"a\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":\"0\"}}", ROOT));
	EXPECT_ERROR("process.user.uid", CFG("{\"args\":[\"a\"],\"cwd\":\"/\",\"user\":{\"uid\":4294967295}}", ROOT));
	EXPECT_ERROR("additionalGids[1]", CFG("{\"args\":[\"a\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"additionalGids\":[5,-1]}}", ROOT));
	EXPECT_ERROR("additionalGids[0]", CFG("{\"args\":[\"a\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"additionalGids\":[\"5\"]}}", ROOT));
	EXPECT_ERROR("additionalGids: at most 32", CFG("{\"args\":[\"a\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"additionalGids\":"
		     "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33]}}", ROOT));
	EXPECT_ERROR("root.path is missing", CFG(PROC, "{}"));
	EXPECT_ERROR("root.path must be a string", CFG(PROC, "{\"path\":1}"));
	EXPECT_ERROR("root.readonly must be a boolean", CFG(PROC, "{\"path\":\"rootfs\",\"readonly\":\"yes\"}"));
	EXPECT_ERROR("root.path", CFG(PROC, "{\"path\":\"missing\"}"));
	EXPECT_ERROR("is not a directory", CFG(PROC, "{\"path\":\"file\"}"));
	EXPECT_ERROR("hostname must be a string", CFG(PROC, ROOT, ",\"hostname\":5"));
	EXPECT_ERROR("hostname 'a/b'", CFG(PROC, ROOT, ",\"hostname\":\"a/b\""));
	EXPECT_ERROR("hostname", CFG(PROC, ROOT, ",\"hostname\":\"0123456789012345678901234567890123456789012345678901234567890123456789\""));
	EXPECT_ERROR("mounts must be an array", CFG(PROC, ROOT, ",\"mounts\":{}"));
	EXPECT_ERROR("mounts[0] must be an object", CFG(PROC, ROOT, ",\"mounts\":[1]"));
	EXPECT_ERROR("mounts[0].destination is missing", CFG(PROC, ROOT, ",\"mounts\":[{\"type\":\"tmpfs\"}]"));
	EXPECT_ERROR("mounts[0].destination 'tmp'", CFG(PROC, ROOT, ",\"mounts\":[{\"destination\":\"tmp\",\"type\":\"tmpfs\"}]"));
	EXPECT_ERROR("mounts[0].destination '/'", CFG(PROC, ROOT, ",\"mounts\":[{\"destination\":\"/\",\"type\":\"tmpfs\"}]"));
	EXPECT_ERROR("mounts[0].destination '/x/..'", CFG(PROC, ROOT, ",\"mounts\":[{\"destination\":\"/x/..\",\"type\":\"tmpfs\"}]"));
	EXPECT_ERROR("mounts[0]: a bind mount needs a source", CFG(PROC, ROOT, ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\"}]"));
	EXPECT_ERROR("mounts[0].source", CFG(PROC, ROOT, ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/nonexistent-kvmini\"}]"));
	EXPECT_ERROR("mounts[1]: type 'nfs'", CFG(PROC, ROOT, ",\"mounts\":[{\"destination\":\"/t\",\"type\":\"tmpfs\"},{\"destination\":\"/x\",\"type\":\"nfs\"}]"));
	EXPECT_ERROR("type 'proc' at /elsewhere", CFG(PROC, ROOT, ",\"mounts\":[{\"destination\":\"/elsewhere\",\"type\":\"proc\"}]"));
	EXPECT_ERROR("mounts[0].options must be an array", CFG(PROC, ROOT, ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":\"ro\"}]"));
	EXPECT_ERROR("annotations must be an object", CFG(PROC, ROOT, ",\"annotations\":[]"));
	EXPECT_ERROR("annotations['a'] must be a string", CFG(PROC, ROOT, ",\"annotations\":{\"a\":1}"));
	EXPECT_ERROR("org.kvmini.mem 'lots'", CFG(PROC, ROOT, ",\"annotations\":{\"org.kvmini.mem\":\"lots\"}"));
	EXPECT_ERROR("org.kvmini.mem '16M'", CFG(PROC, ROOT, ",\"annotations\":{\"org.kvmini.mem\":\"16M\"}"));
	EXPECT_ERROR("org.kvmini.cpus '0'", CFG(PROC, ROOT, ",\"annotations\":{\"org.kvmini.cpus\":\"0\"}"));
	EXPECT_ERROR("org.kvmini.cpus '255'", CFG(PROC, ROOT, ",\"annotations\":{\"org.kvmini.cpus\":\"255\"}"));
	EXPECT_ERROR("org.kvmini.snapshot 'no'", CFG(PROC, ROOT, ",\"annotations\":{\"org.kvmini.snapshot\":\"no\"}"));
	EXPECT_ERROR("linux.resources.memory.limit", CFG(PROC, ROOT, ",\"linux\":{\"resources\":{\"memory\":{\"limit\":1048576}}}"));
	EXPECT_ERROR("linux.resources.memory.limit", CFG(PROC, ROOT, ",\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1G\"}}}"));
	EXPECT_ERROR("linux.resources.cpu.quota", CFG(PROC, ROOT, ",\"linux\":{\"resources\":{\"cpu\":{\"quota\":1.5}}}"));
	EXPECT_ERROR("linux must be an object", CFG(PROC, ROOT, ",\"linux\":[]"));
	EXPECT_ERROR("hooks.prestart: hooks are not supported yet", CFG(PROC, ROOT, ",\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}]}"));
}
END_TEST

/* config.json read from the bundle: missing, and present. */
START_TEST(test_oci_config_load)
{
	struct unit_capture_std c;
	struct oci_spec spec;
	char path[PATH_MAX + 16], *out, *err;
	FILE *f;
	int ret;

	unit_capture_std_begin(&c);
	ret = oci_config_load(&ctx, bundle, &spec);
	unit_capture_std_end(&c, &out, &err);
	ck_assert_int_lt(ret, 0);
	unit_check_error_line(out, err, "config.json");
	oci_spec_free(&spec);
	free(out);
	free(err);

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(CFG(PROC, ROOT), f);
	fclose(f);
	ret = oci_config_load(&ctx, bundle, &spec);
	ck_assert_int_eq(ret, 0);
	ck_assert_str_eq(spec.ec.argv[0], "sh");
	oci_spec_free(&spec);
	unlink(path);
}
END_TEST

/* "k1\0v1\0k2\0v2\0…": the job's pairs after the magic, as a string. */
static char *job_pairs(const struct exec_config *ec)
{
	size_t len, skip;
	char *buf, *s;

	ck_assert_int_eq(exec_job_encode(ec, &buf, &len), 0);
	skip = strlen(buf) + 1;
	skip += strlen(buf + skip) + 1;
	s = calloc(1, len - skip + 1);
	for (size_t i = skip; i < len; i++)
		s[i - skip] = buf[i] ? buf[i] : '|';
	free(buf);
	return s;
}

/* What the guest's agent gets: the bundle's rootfs as / itself. */
/* linux.namespaces: only the network entry matters (oci_net.c). */
START_TEST(test_oci_config_namespaces)
{
	struct parsed p;

	expect_ok(&p, CFG(PROC, ROOT));
	ck_assert_int_eq(p.spec.net, OCI_NET_HOST);
	done(&p);
	expect_ok(&p, CFG(PROC, ROOT, ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"}]}"));
	ck_assert_int_eq(p.spec.net, OCI_NET_NEW);
	ck_assert_ptr_null(p.spec.netns_path);
	done(&p);
	expect_ok(&p, CFG(PROC, ROOT, ",\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/run/netns/x\"},{\"type\":\"mount\"}]}"));
	ck_assert_int_eq(p.spec.net, OCI_NET_JOIN);
	ck_assert_str_eq(p.spec.netns_path, "/run/netns/x");
	done(&p);
	EXPECT_ERROR("linux.namespaces must be an array",
		     CFG(PROC, ROOT, ",\"linux\":{\"namespaces\":{}}"));
	EXPECT_ERROR("each entry needs a type",
		     CFG(PROC, ROOT, ",\"linux\":{\"namespaces\":[{\"path\":\"/x\"}]}"));
	EXPECT_ERROR("must be an absolute path",
		     CFG(PROC, ROOT, ",\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"x\"}]}"));
}
END_TEST

/* What create opens, and what the container's process makes of it. */
START_TEST(test_oci_net_open_enter)
{
	struct oci_spec spec = { .net = OCI_NET_JOIN };
	int fd, status;
	pid_t pid;

	spec.netns_path = "/proc/self/ns/net";
	ck_assert_int_eq(oci_net_open(&ctx, &spec, &fd), 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	spec.netns_path = "/proc/self/ns/uts";
	UNIT_EXPECT_ERROR(oci_net_open(&ctx, &spec, &fd), -EINVAL, "is not a network namespace");
	ck_assert_int_eq(fd, -1);
	spec.netns_path = "/nonexistent/netns";
	UNIT_EXPECT_ERROR(oci_net_open(&ctx, &spec, &fd), -ENOENT,
			  "network namespace /nonexistent/netns");

	spec.net = OCI_NET_HOST;
	ck_assert_int_eq(oci_net_enter(&spec, -1), 0);
	ck_assert(spec.ec.net_user);
	spec.net = OCI_NET_NEW;
	ck_assert_int_eq(oci_net_enter(&spec, -1), 0);
	ck_assert(!spec.ec.net_user);

	/* A namespace with loopback alone: joined, and no NIC for the guest.
	 * Made in a child, which is the one that joins it. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		if (unshare(CLONE_NEWNET) < 0)
			_exit(errno == EPERM ? 77 : 1);
		spec.net = OCI_NET_JOIN;
		spec.netns_path = "/proc/self/ns/net";
		spec.ec.net_user = true;
		if (oci_net_open(&ctx, &spec, &fd) || oci_net_enter(&spec, fd))
			_exit(2);
		_exit(spec.ec.net_user ? 3 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		unit_skip("oci_net: cannot make a network namespace (not root)");
		return;
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %#x", status);
}
END_TEST

START_TEST(test_oci_config_job)
{
	char json[4096];
	struct parsed p;
	char *pairs;

	snprintf(json, sizeof(json), CFG("{\"args\":[\"id\"],\"cwd\":\"/w\",\"env\":[\"A=1\"],"
					 "\"user\":{\"uid\":5,\"gid\":6,\"additionalGids\":[7,4294967294]}}",
					 "{\"path\":\"rootfs\",\"readonly\":true}",
					 ",\"hostname\":\"h\",\"mounts\":[{\"destination\":\"/d\","
					 "\"type\":\"bind\",\"source\":\"data\"},"
					 "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"file\",\"options\":[\"ro\"]},"
					 "{\"destination\":\"/t\",\"type\":\"tmpfs\"}]"));
	expect_ok(&p, json);
	pairs = job_pairs(&p.spec.ec);
	ck_assert_str_eq(pairs, "root|root|root-mode|ro|share|share0 rw /d|file|share1 ro 0 /etc/hosts|"
			 "tmpfs|/t|hostname|h|"
			 "user|5 6|groups|7 4294967294|workdir|/w|net|none|verbose|0|env|A=1|arg|id|");
	free(pairs);
	done(&p);
	expect_ok(&p, CFG(PROC, ROOT));
	pairs = job_pairs(&p.spec.ec);
	ck_assert_str_eq(pairs, "root|root|root-mode|rw|workdir|/|net|none|verbose|0|"
			 "arg|sh|arg|-c|arg|echo hi|");
	free(pairs);
	done(&p);
}
END_TEST

/* The child's checks of oci_files_mount(): 0, or the failed check's
 * number. */
static int files_child(const char *root, const struct oci_spec *spec)
{
	char p[PATH_MAX + 64], buf[64];
	int fd, n;

	if (oci_files_mount(&ctx, spec))
		return errno == EPERM ? 77 : 10;
	/* ro/ holds file 0 alone, rw/ file 1 alone: no sibling. */
	for (int g = 0; g < 2; g++) {
		struct dirent *e;
		DIR *d;

		snprintf(p, sizeof(p), "%s/c/files/%s", root, g ? "ro" : "rw");
		d = opendir(p);
		if (!d)
			return 11;
		n = 0;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (strcmp(e->d_name, g ? "0" : "1"))
				return 12;
			n++;
		}
		closedir(d);
		if (n != 1)
			return 13;
	}
	snprintf(p, sizeof(p), "%s/c/files/ro/0", root);
	fd = open(p, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	if (n != 3 || memcmp(buf, "ro\n", 3))
		return 14;
	close(fd);
	if (open(p, O_WRONLY) >= 0 || errno != EROFS)
		return 15;
	snprintf(p, sizeof(p), "%s/c/files/rw/1", root);
	fd = open(p, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "more\n", 5) != 5)
		return 16;
	close(fd);
	return 0;
}

/* File binds on the host: create's directory and shares, the container
 * process's namespace, tmpfs and binds (a child: it is the one that
 * enters the namespace); the host's view keeps only an empty directory. */
START_TEST(test_oci_files)
{
	char root[] = "/tmp/kvmini-oci-files.XXXXXX", p[PATH_MAX + 64], json[PATH_MAX + 1024];
	struct oci_ctx c = { 0 };
	struct oci_dir d = { -1, -1 };
	struct parsed pr;
	int status, fd;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(root));
	c.root = root;
	snprintf(p, sizeof(p), "%s/ro", data);
	ck_assert_int_eq(close(open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)), 0);
	fd = open(p, O_WRONLY);
	ck_assert_int_eq(write(fd, "ro\n", 3), 3);
	close(fd);
	snprintf(p, sizeof(p), "%s/secret", data);
	ck_assert_int_eq(close(creat(p, 0600)), 0);
	snprintf(json, sizeof(json), CFG(PROC, ROOT, ",\"mounts\":["
		 "{\"destination\":\"/etc/ro\",\"type\":\"bind\",\"source\":\"data/ro\",\"options\":[\"ro\"]},"
		 "{\"destination\":\"/etc/rw\",\"type\":\"bind\",\"source\":\"%s\"}]"), file);
	expect_ok(&pr, json);
	ck_assert_int_eq(oci_dir_create(&c, "c", &d), 0);
	ck_assert_int_eq(oci_files_prepare(&c, "c", &d, &pr.spec), 0);
	snprintf(p, sizeof(p), "%s/c/files/ro", root);
	ck_assert_str_eq(pr.spec.ec.shares[0].host, p);
	ck_assert(pr.spec.ec.shares[0].ro);
	snprintf(p, sizeof(p), "%s/c/files/rw", root);
	ck_assert_str_eq(pr.spec.ec.shares[1].host, p);
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid)
		_exit(files_child(root, &pr.spec));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		unit_skip("oci_files: cannot make a mount namespace (not root)");
	} else {
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "child status %#x", status);
		/* The rw file took the write; the host's files/ is empty. */
		fd = open(file, O_RDONLY);
		ck_assert_int_eq(read(fd, p, sizeof(p)), 5);
		close(fd);
		snprintf(p, sizeof(p), "%s/c/files/ro", root);
		ck_assert_int_eq(access(p, F_OK), -1);
	}
	ck_assert_int_eq(oci_dir_remove(&c, "c", &d), 0);
	ck_assert_int_eq(rmdir(root), 0);
	snprintf(p, sizeof(p), "%s/ro", data);
	unlink(p);
	snprintf(p, sizeof(p), "%s/secret", data);
	unlink(p);
	ck_assert_int_eq(truncate(file, 0), 0);
	done(&pr);
}
END_TEST

static Suite *oci_config_suite(void)
{
	Suite *s = suite_create("oci_config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_oci_config_minimal);
	tcase_add_test(tc, test_oci_config_terminal);
	tcase_add_test(tc, test_oci_config_full);
	tcase_add_test(tc, test_oci_config_resources);
	tcase_add_test(tc, test_oci_config_engine_binds);
	tcase_add_test(tc, test_oci_config_errors);
	tcase_add_test(tc, test_oci_config_load);
	tcase_add_test(tc, test_oci_config_job);
	tcase_add_test(tc, test_oci_config_namespaces);
	tcase_add_test(tc, test_oci_net_open_enter);
	tcase_add_test(tc, test_oci_files);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(oci_config_suite)
