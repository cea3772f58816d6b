// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>

#include "legacy/serial.h"
#include "vmm/arch.h"
#include "vmm/console.h"
#include "vmm/vm.h"
#include "vmm/vm_uart.h"

struct vm_uart {
	struct vm *vm;
	uint32_t irq;
	struct serial *serial;
};

static void uart_irq(void *ctx, int level)
{
	struct vm_uart *u = ctx;

	arch_irq_line(u->vm, u->irq, level);
}

/* The console may take less when its reader is slow: the UART holds the
 * rest and the guest waits. Not the console, the output goes nowhere. */
static size_t uart_output(void *ctx, const uint8_t *buf, size_t len)
{
	struct vm_uart *u = ctx;

	if (vm_console_on_uart(u->vm))
		return console_write(u->vm->console, buf, len);
	return len;
}

/* The panic detector reads the UART's stream as the guest writes it, so
 * that a panic is seen even while the console's reader holds the bytes
 * back, or Linux's console, tired of waiting for THRE, writes over them. */
static void uart_tx_watch(void *ctx, uint8_t byte)
{
	struct vm_uart *u = ctx;

	console_scan(u->vm->console, &byte, 1);
}

/* The console has room again (I/O thread). */
static void uart_tx_ready(void *ctx)
{
	serial_tx_ready(ctx);
}

static void uart_rx_space(void *ctx)
{
	struct vm_uart *u = ctx;

	console_input_space(u->vm->console);
}

static size_t uart_push(void *ctx, const uint8_t *buf, size_t len)
{
	return serial_rx_push(ctx, buf, len);
}

static const struct serial_ops uart_ops = {
	.set_irq = uart_irq,
	.output = uart_output,
	.tx_watch = uart_tx_watch,
	.rx_space = uart_rx_space,
};

struct vm_uart *vm_uart_new(struct vm *vm, uint32_t irq)
{
	struct vm_uart *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->vm = vm;
	u->irq = irq;
	u->serial = serial_new(&uart_ops, u);
	if (!u->serial) {
		free(u);
		return NULL;
	}
	if (vm_console_on_uart(vm)) {
		console_attach(vm->console, uart_push, u->serial);
		console_attach_output(vm->console, uart_tx_ready, u->serial);
	}
	return u;
}

struct serial *vm_uart_serial(struct vm_uart *u)
{
	return u->serial;
}

void vm_uart_free(struct vm_uart *u)
{
	if (!u)
		return;
	serial_free(u->serial);
	free(u);
}
