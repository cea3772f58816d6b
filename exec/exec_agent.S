/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmini exec's guest agent (guests/agent/agent.c, built static by the
 * Makefile), carried inside kvmini so that exec needs no file besides a
 * kernel. AGENT_PATH is the built agent.
 */
	.section .rodata
	.balign 16
	.global exec_agent_start
	.global exec_agent_end
exec_agent_start:
	.incbin AGENT_PATH
exec_agent_end:
	.section .note.GNU-stack, "", %progbits
