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

#define LEAKS 64

static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "also leak a few allocations (for kmemleak)");

static int __init warn_on_init(void)
{
	int i;

	WARN_ON(1);
	/*
	 * Each allocation is 16 KiB, which kmalloc takes from the page allocator, not from a
	 * slab cache: since Linux 7.x's per-CPU sheaves, an object just taken from a cache is
	 * still named by a stale slot of its sheaf (an array kmemleak scans), so a small leak is
	 * reported only once that slot is reused (64 objects of 64 bytes: none reported on 7.3,
	 * all 64 of 16 KiB).
	 *
	 * kmemleak scans whole task stacks, also the stale part below the stack pointer (and
	 * the stack of a task that has exited stays cached, and scanned): each allocation
	 * leaves copies of its pointer there, which the next one overwrites. So many are made,
	 * each pointer held in a register alone, and all but the last few are reported. They
	 * are zeroed: an object fresh from a slab still holds the slab's free-list pointer to
	 * the next free object, which is the next one allocated, so one stale copy of an early
	 * pointer would reach all the others through that chain (16 objects without zeroing:
	 * in one of two runs of the self-test, kmemleak reported none).
	 */
	for (i = 0; leak && i < LEAKS; i++) {
		void *p = kzalloc(16384, GFP_KERNEL);

		OPTIMIZER_HIDE_VAR(p);
	}
	if (leak)
		pr_info("warn_on: leaked %d allocations\n", LEAKS);
	return 0;
}

static void __exit warn_on_exit(void)
{
}

module_init(warn_on_init);
module_exit(warn_on_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Deliberate kernel warning (and leak) for the VM harness self-test");
