// SPDX-License-Identifier: GPL-2.0
/*
 * Loads with a deliberate WARN_ON: proves that scripts/vm fails a run on a kernel warning.
 * With leak=1 it also leaks memory, which kmemleak's scan after the command must report.
 */
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "also leak a few allocations (for kmemleak)");

static int __init warn_on_init(void)
{
	int i;

	WARN_ON(1);
	/*
	 * kmemleak scans whole task stacks, also the stale part below the stack pointer (and
	 * the stack of a task that has exited stays cached, and scanned): each allocation
	 * leaves copies of its pointer there, which the next one overwrites. So many are made,
	 * each pointer held in a register alone, and all but the last few are reported.
	 */
	for (i = 0; leak && i < 16; i++) {
		void *p = kmalloc(64, GFP_KERNEL);

		OPTIMIZER_HIDE_VAR(p);
	}
	if (leak)
		pr_info("warn_on: leaked 16 allocations\n");
	return 0;
}

static void __exit warn_on_exit(void)
{
}

module_init(warn_on_init);
module_exit(warn_on_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Deliberate kernel warning (and leak) for the VM harness self-test");
