/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A guest of a few hundred bytes that exercises kvmini on any KVM, even
 * one that cannot run Linux. Built twice: entered through PVH in 32-bit
 * protected mode (RBX = start info), and with -DTINY64 as an ELF without
 * the PVH note, which kvmini enters in 64-bit mode through the Linux boot
 * protocol (RSI = zero page). Either way it reads "tiny=<mode><arg>" from
 * its command line and
 *   h       prints a greeting and ends the VM with status 0
 *   x<N>    prints a greeting and ends the VM with status N (decimal)
 *   l       prints a line and halts forever (for --timeout, signals)
 *   r       resets through the i8042 (reboot=k)
 *   t       faults with no IDT: a triple fault
 *   p       prints Linux's panic line and halts
 *   e       echoes serial input until it reads 'q', then ends with 0
 *   s       powers off through the ACPI sleep control register (S5)
 *   a       resets through the ACPI reset register
 *   f<N>    prints N lines of 64 bytes (0: forever), then ends with 0;
 *           with the FIFOs on, 16 bytes each time THR is empty, as
 *           Linux's 8250 driver sends, so a host that holds output back
 *           holds the guest up
 *   c       prints a tick line after every 100000 loop iterations,
 *           forever (the control socket's pause stops the ticks)
 * (s and a find the registers from the boot info's RSDP, as Linux does,
 * and end the VM with 98 when there is none.)
 */
#define COM1		0x3f8
#define COM1_FCR	0x3fa
#define COM1_LSR	0x3fd
#define EXIT_PORT	0x5f0
#define I8042_CMD	0x64
#define PVH_CMDLINE	24	/* offset of cmdline_paddr in hvm_start_info */
#define BP_CMDLINE	0x228	/* offset of hdr.cmd_line_ptr in boot_params */
#define PVH_RSDP	32	/* offset of rsdp_paddr in hvm_start_info */
#define BP_RSDP		0x70	/* offset of acpi_rsdp_addr in boot_params */
#define FADT_RESET_REG	116	/* generic address: port at +4 */
#define FADT_RESET_VAL	128
#define FADT_SLEEP_CTL	244
#define SLP_S5		(0x20 | 5 << 2)	/* SLP_EN, kvmini's _S5 SLP_TYP */

#ifdef TINY64
#define PUSH	push %rax
#define POP	pop %rax
#define PUSH_SI	push %rsi
#define POP_SI	pop %rsi
	.text
	.code64
#else
#define PUSH	push %eax
#define POP	pop %eax
#define PUSH_SI	push %esi
#define POP_SI	pop %esi
	.section .note.pvh, "a", @note
	.p2align 2
	.long 4, 4, 18		/* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long _start

	.text
	.code32
#endif
	.globl _start
_start:
	mov	$0x80000, %esp
#ifdef TINY64
	mov	BP_RSDP(%rsi), %ebp
	mov	BP_CMDLINE(%rsi), %esi
#else
	mov	PVH_RSDP(%ebx), %ebp
	mov	PVH_CMDLINE(%ebx), %esi
#endif
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
	cmp	$'s', %al
	je	mode_acpi_off
	cmp	$'a', %al
	je	mode_acpi_reset
	cmp	$'f', %al
	je	mode_flood
	cmp	$'c', %al
	je	mode_count
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
	PUSH
	mov	$msg_hello, %eax
	call	puts
	POP
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

mode_flood:
	xor	%eax, %eax
11:	movzbl	(%esi), %ecx
	sub	$'0', %ecx
	cmp	$9, %ecx
	ja	12f
	imul	$10, %eax
	add	%ecx, %eax
	inc	%esi
	jmp	11b
12:	mov	%eax, %ebp		/* lines left; the RSDP is not needed */
	mov	$0x01, %al		/* FIFOs on: 16 bytes per THR empty */
	mov	$COM1_FCR, %dx
	out	%al, %dx
13:	mov	$msg_flood, %esi
	mov	$4, %ebx		/* the line in four FIFO loads */
14:	mov	$COM1_LSR, %dx
15:	in	%dx, %al
	test	$0x20, %al
	jz	15b
	mov	$COM1, %dx
	mov	$16, %ecx
	rep outsb
	dec	%ebx
	jnz	14b
	test	%ebp, %ebp
	jz	13b
	dec	%ebp
	jnz	13b
	mov	$COM1_LSR, %dx		/* all sent before the power goes */
16:	in	%dx, %al
	test	$0x40, %al
	jz	16b
	xor	%eax, %eax
	jmp	exit

mode_count:
17:	mov	$msg_tick, %eax
	call	puts
	mov	$100000, %ecx
18:	dec	%ecx
	jnz	18b
	jmp	17b

/* Follows RSDP -> XSDT -> FADT as a kernel would and writes its
 * registers: the port numbers are all below 64 Ki, in the low half. */
mode_acpi_off:
	call	find_fadt
	mov	FADT_SLEEP_CTL + 4(%eax), %edx
	mov	$SLP_S5, %al
	out	%al, %dx
	jmp	halt

mode_acpi_reset:
	call	find_fadt
	mov	FADT_RESET_REG + 4(%eax), %edx
	movzbl	FADT_RESET_VAL(%eax), %eax
	out	%al, %dx
	jmp	halt

/* %eax = the FADT the boot info's RSDP leads to; exits 98 without one. */
find_fadt:
	test	%ebp, %ebp
	jz	8f
	mov	24(%ebp), %eax		/* RSDP: XsdtAddress */
	mov	4(%eax), %ecx		/* XSDT: length */
	add	%eax, %ecx
	add	$36, %eax		/* the entries, 64 bits each */
9:	cmp	%ecx, %eax
	jae	8f
	mov	(%eax), %edx
	cmpl	$0x50434146, (%edx)	/* "FACP" */
	je	10f
	add	$8, %eax
	jmp	9b
10:	mov	%edx, %eax
	ret
8:	mov	$msg_no_acpi, %eax
	call	puts
	mov	$98, %eax
	jmp	exit

halt:
	cli
5:	hlt
	jmp	5b

/* puts(%eax = NUL-terminated string) */
puts:
	PUSH_SI
	mov	%eax, %esi
	mov	$COM1, %dx
6:	lodsb
	test	%al, %al
	jz	7f
	out	%al, %dx
	jmp	6b
7:	POP_SI
	ret

	.p2align 3
idt_none:
	.word	0
	.quad	0

msg_hello:	.asciz "tiny: hello from the guest\r\n"
msg_loop:	.asciz "tiny: halting forever\r\n"
msg_panic:	.asciz "Kernel panic - not syncing: tiny test panic\r\n"
msg_echo:	.asciz "tiny: echo until q\r\n"
msg_flood:	.ascii "tiny: flood 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN\r\n"	/* 64 */
msg_tick:	.asciz "tiny: tick\r\n"
msg_no_acpi:	.asciz "tiny: no ACPI tables\r\n"
msg_usage:	.asciz "tiny: no tiny=<mode> on the command line\r\n"
