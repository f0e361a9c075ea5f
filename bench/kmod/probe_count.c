// SPDX-License-Identifier: GPL-2.0
/*
 * probe_count: counts the calls of two kernel functions with kprobes, for bench/vm/scale.sh:
 * IPVS's template lookup (ip_vs_ct_in_get) and the registered engine's ct_match callback,
 * whose ratio is the number of templates a lookup compares. A counting run is separate from
 * the timed ones: a kprobe's breakpoint costs more than what it counts.
 *
 * Parameters: lookup= and match=, the symbols to count (a module's symbols are found once
 * that module is loaded: load this one after the engine, unload it before).
 * debugfs: /sys/kernel/debug/probe_count/counts, read: "lookup=N match=N" since loading.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static char *lookup = "ip_vs_ct_in_get";
module_param(lookup, charp, 0444);
MODULE_PARM_DESC(lookup, "Symbol counted as lookups");
static char *match;
module_param(match, charp, 0444);
MODULE_PARM_DESC(match, "Symbol counted as ct_match calls (required)");

static atomic_long_t hits[2];
static struct dentry *dir;

static int count_lookup(struct kprobe *p, struct pt_regs *regs)
{
	atomic_long_inc(&hits[0]);
	return 0;
}

static int count_match(struct kprobe *p, struct pt_regs *regs)
{
	atomic_long_inc(&hits[1]);
	return 0;
}

static struct kprobe probes[2] = {
	{ .pre_handler = count_lookup },
	{ .pre_handler = count_match },
};

static int counts_show(struct seq_file *m, void *v)
{
	seq_printf(m, "lookup=%ld match=%ld\n", atomic_long_read(&hits[0]),
		   atomic_long_read(&hits[1]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(counts);

static int __init probe_count_init(void)
{
	int err;

	if (!lookup || !match)
		return -EINVAL;
	probes[0].symbol_name = lookup;
	probes[1].symbol_name = match;
	err = register_kprobe(&probes[0]);
	if (err) {
		pr_err("cannot probe %s: %d\n", lookup, err);
		return err;
	}
	err = register_kprobe(&probes[1]);
	if (err) {
		pr_err("cannot probe %s: %d\n", match, err);
		unregister_kprobe(&probes[0]);
		return err;
	}
	dir = debugfs_create_dir("probe_count", NULL);
	debugfs_create_file("counts", 0400, dir, NULL, &counts_fops);
	return 0;
}

static void __exit probe_count_exit(void)
{
	debugfs_remove(dir);
	unregister_kprobe(&probes[1]);
	unregister_kprobe(&probes[0]);
}

module_init(probe_count_init);
module_exit(probe_count_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Counts IPVS template lookups and the engine's ct_match calls with kprobes");
