/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scxsim SDK: user exit info.
 *
 * A scheduler records why it was disabled (struct scx_exit_info handed to
 * ops.exit()) in a global that the user side, here scxsim, reads after
 * unloading it:
 *
 *	UEI_DEFINE(uei);
 *	void BPF_STRUCT_OPS(x_exit, struct scx_exit_info *ei)
 *	{
 *		UEI_RECORD(uei, ei);
 *	}
 */
#ifndef __SCX_USER_EXIT_INFO_H
#define __SCX_USER_EXIT_INFO_H

enum uei_sizes {
	UEI_REASON_LEN		= 128,
	UEI_MSG_LEN		= 1024,
};

struct user_exit_info {
	int		kind;
	s64		exit_code;
	char		reason[UEI_REASON_LEN];
	char		msg[UEI_MSG_LEN];
};

#define UEI_DEFINE(__name)						\
	struct user_exit_info __name SEC(".data")

/*
 * Copy the strings first and publish kind last, so a reader that sees a
 * non-zero kind sees the rest too.
 */
#define UEI_RECORD(__name, __ei) ({					\
	bpf_probe_read_kernel_str((__name).reason,			\
				  sizeof((__name).reason), (__ei)->reason); \
	bpf_probe_read_kernel_str((__name).msg,				\
				  sizeof((__name).msg), (__ei)->msg);	\
	(__name).exit_code = (__ei)->exit_code;				\
	__sync_val_compare_and_swap(&(__name).kind, (__name).kind,	\
				    (__ei)->kind);			\
})

#endif /* __SCX_USER_EXIT_INFO_H */
