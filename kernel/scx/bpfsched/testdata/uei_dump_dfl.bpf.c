/* SPDX-License-Identifier: GPL-2.0 */
/* uei_dump with exit_dump_len left at 0: the dump buffer gets scx's
 * default length. */
#define DUMP_LEN 0
#include "uei_dump.bpf.c"
