// SPDX-License-Identifier: GPL-2.0
/* Loads with a deliberate WARN_ON: proves that scripts/vm fails a run on a kernel warning. */
#include <linux/bug.h>
#include <linux/module.h>

static int __init warn_on_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit warn_on_exit(void)
{
}

module_init(warn_on_init);
module_exit(warn_on_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Deliberate kernel warning for the VM harness self-test");
