/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The 16550A UART wired to the VM: its output goes to the console when the
 * console is on the UART (else it is only scanned for a panic), with the
 * console's back-pressure (a full console leaves THR full until it has
 * room), console input goes into its receive buffer, and it raises interrupt line irq
 * through arch_irq_line(). Both architectures use this glue; each puts the
 * UART on its own bus (port I/O on x86, MMIO on arm64) with serial_access
 * and vm_uart_serial().
 */
#ifndef KVMINI_VM_UART_H
#define KVMINI_VM_UART_H

#include <stdint.h>

struct vm;
struct vm_uart;
struct serial;

/* NULL when out of memory. */
struct vm_uart *vm_uart_new(struct vm *vm, uint32_t irq);
struct serial *vm_uart_serial(struct vm_uart *u);
void vm_uart_free(struct vm_uart *u);

#endif
