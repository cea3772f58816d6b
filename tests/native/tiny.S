/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A guest of a few hundred bytes that exercises kvmini on any KVM, even
 * one that cannot run Linux: entered through PVH in 32-bit protected mode,
 * it reads "tiny=<mode><arg>" from its command line and
 *   h       prints a greeting and ends the VM with status 0
 *   x<N>    prints a greeting and ends the VM with status N (decimal)
 *   l       prints a line and halts forever (for --timeout, signals)
 *   r       resets through the i8042 (reboot=k)
 *   t       faults with no IDT: a triple fault
 *   p       prints Linux's panic line and halts
 *   e       echoes serial input until it reads 'q', then ends with 0
 */
#define COM1		0x3f8
#define COM1_LSR	0x3fd
#define EXIT_PORT	0x5f0
#define I8042_CMD	0x64
#define PVH_CMDLINE	24	/* offset of cmdline_paddr in hvm_start_info */

	.section .note.pvh, "a", @note
	.p2align 2
	.long 4, 4, 18		/* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start

	.text
	.code32
	.globl _start
_start:
	mov	$0x80000, %esp
	mov	PVH_CMDLINE(%ebx), %esi
find:
	cmpb	$0, (%esi)
	je	no_mode
	cmpl	$0x796e6974, (%esi)	/* "tiny" */
	jne	1f
	cmpb	$'=', 4(%esi)
	je	found
1:	inc	%esi
	jmp	find

found:
	movzbl	5(%esi), %eax
	add	$6, %esi
	cmp	$'h', %al
	je	mode_hello
	cmp	$'x', %al
	je	mode_exit
	cmp	$'l', %al
	je	mode_loop
	cmp	$'r', %al
	je	mode_reset
	cmp	$'t', %al
	je	mode_triple
	cmp	$'p', %al
	je	mode_panic
	cmp	$'e', %al
	je	mode_echo
no_mode:
	mov	$msg_usage, %eax
	call	puts
	mov	$99, %eax
	jmp	exit

mode_hello:
	xor	%eax, %eax
	jmp	hello_exit

mode_exit:
	xor	%eax, %eax
2:	movzbl	(%esi), %ecx
	sub	$'0', %ecx
	cmp	$9, %ecx
	ja	hello_exit
	imul	$10, %eax
	add	%ecx, %eax
	inc	%esi
	jmp	2b

hello_exit:
	push	%eax
	mov	$msg_hello, %eax
	call	puts
	pop	%eax
exit:
	mov	$EXIT_PORT, %dx
	out	%al, %dx
	jmp	halt

mode_loop:
	mov	$msg_loop, %eax
	call	puts
	jmp	halt

mode_reset:
	mov	$0xfe, %al
	out	%al, $I8042_CMD
	jmp	halt

mode_triple:
	lidt	idt_none
	ud2

mode_panic:
	mov	$msg_panic, %eax
	call	puts
	jmp	halt

mode_echo:
	mov	$msg_echo, %eax
	call	puts
3:	mov	$COM1_LSR, %dx
	in	%dx, %al
	test	$1, %al
	jz	3b
	mov	$COM1, %dx
	in	%dx, %al
	cmp	$'q', %al
	je	4f
	out	%al, %dx
	jmp	3b
4:	xor	%eax, %eax
	jmp	exit

halt:
	cli
5:	hlt
	jmp	5b

/* puts(%eax = NUL-terminated string) */
puts:
	push	%esi
	mov	%eax, %esi
	mov	$COM1, %dx
6:	lodsb
	test	%al, %al
	jz	7f
	out	%al, %dx
	jmp	6b
7:	pop	%esi
	ret

	.p2align 3
idt_none:
	.word	0
	.long	0

msg_hello:	.asciz "tiny: hello from the guest\r\n"
msg_loop:	.asciz "tiny: halting forever\r\n"
msg_panic:	.asciz "Kernel panic - not syncing: tiny test panic\r\n"
msg_echo:	.asciz "tiny: echo until q\r\n"
msg_usage:	.asciz "tiny: no tiny=<mode> on the command line\r\n"
