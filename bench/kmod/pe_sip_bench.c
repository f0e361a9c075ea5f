// SPDX-License-Identifier: GPL-2.0
/*
 * pe_sip_bench: times the operations of whichever IPVS "sip" persistence engine is
 * registered (the kernel's C ip_vs_pe_sip or our Rust ip_vs_pe_sip_rs), on a prebuilt IPv4
 * UDP skb, so that the two engines are compared on the same bytes in the same kernel.
 *
 * debugfs, in /sys/kernel/debug/pe_sip_bench/:
 *   payload     write: the UDP payload (a SIP message) of the benchmark's datagram
 *   iterations  read/write: calls per operation and run (rounded up to whole chunks)
 *   headroom    read/write: extra bytes reserved before the IP header, to move the payload
 *               within its page (default 0); the result's page_off says where it starts
 *   run         write: run the benchmark; read: its result, one line of key=value:
 *               engine (module name), callid_len (0 when fill_param found none),
 *               fill_param, hashkey_raw, ct_match, kmemdup, krealloc, atomics (ns per
 *               call: median over chunks, then the fastest chunk as *_min)
 *
 * fill_param is timed with the kfree of the data it allocates, as IPVS frees it after a
 * template lookup hit. Three baselines time pieces of that work alone, to tell the engines'
 * own cost from the kernel services they use: "kmemdup" is kmemdup+kfree of the Call-ID's
 * length (how both engines copy it), "krealloc" is krealloc(NULL)+memcpy+kfree (how a
 * Rust KVec allocates and fills it, which our engine did at first), "atomics" one increment
 * of a shared 64-bit counter (what the Rust engine's statistics cost each call before they
 * became per-CPU counters). Calls run in chunks with bottom halves
 * disabled under rcu_read_lock(), as in the packet path; the median chunk discards the ones
 * an interrupt or the host's other load slowed down.
 *
 * The engine is found with __ip_vs_pe_getbyname(), which IPVS does not export: its address
 * comes from a kprobe's symbol lookup (CONFIG_KPROBES). It takes a reference on the engine's
 * module for the duration of a run, so the engine cannot be unloaded meanwhile.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/ip.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/udp.h>
#include <net/ip_vs.h>

#if IS_ENABLED(CONFIG_X86_KERNEL_IBT)
/* With IBT a kprobe's address is past the function's ENDBR, not a valid call target. */
#error "pe_sip_bench calls a kprobe-resolved address; build it without CONFIG_X86_KERNEL_IBT"
#endif

#define CHUNK 250
#define MAX_CHUNKS 400
#define PAYLOAD_MAX 4096

static DEFINE_MUTEX(lock);
static char payload[PAYLOAD_MAX];
static size_t payload_len;
static u32 iterations = 20000;
static u32 headroom;
static char result[768];
static u64 samples[MAX_CHUNKS];
static atomic64_t counter;
static struct dentry *dir;

typedef struct ip_vs_pe *(*getbyname_t)(const char *name);

/* Address of IPVS's __ip_vs_pe_getbyname(), or NULL if ip_vs is not loaded. */
static getbyname_t resolve_getbyname(void)
{
	struct kprobe kp = { .symbol_name = "__ip_vs_pe_getbyname" };
	getbyname_t fn;

	if (register_kprobe(&kp))
		return NULL;
	fn = (getbyname_t)kp.addr;
	unregister_kprobe(&kp);
	return fn;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median and minimum over the chunks, in picoseconds per call. */
static void summarize(unsigned int chunks, u64 *median, u64 *min)
{
	sort(samples, chunks, sizeof(samples[0]), cmp_u64, NULL);
	*min = samples[0] * 1000 / CHUNK;
	*median = samples[chunks / 2] * 1000 / CHUNK;
}

/*
 * Times CHUNK-call chunks of the statement given (which may use the loop variable i) in packet-path
 * context; leaves the per-chunk nanoseconds in samples[].
 */
#define TIME_CHUNKS(chunks, ...)						\
	do {									\
		unsigned int c_, i;						\
		for (c_ = 0; c_ < (chunks); c_++) {				\
			u64 t0_;						\
			local_bh_disable();					\
			rcu_read_lock();					\
			t0_ = ktime_get_ns();					\
			for (i = 0; i < CHUNK; i++) {				\
				__VA_ARGS__;					\
			}							\
			samples[c_] = ktime_get_ns() - t0_;			\
			rcu_read_unlock();					\
			local_bh_enable();					\
			cond_resched();						\
		}								\
	} while (0)

/* An IPv4 UDP datagram 10.0.1.2:5060 -> 10.0.1.100:5060 carrying the payload. */
static struct sk_buff *bench_skb(void)
{
	unsigned int len = sizeof(struct iphdr) + sizeof(struct udphdr) + payload_len;
	struct sk_buff *skb = alloc_skb(LL_MAX_HEADER + headroom + len, GFP_KERNEL);
	struct udphdr *uh;
	struct iphdr *iph;

	if (!skb)
		return NULL;
	skb_reserve(skb, LL_MAX_HEADER + headroom);
	skb_reset_network_header(skb);
	iph = skb_put_zero(skb, sizeof(*iph));
	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = 64;
	iph->protocol = IPPROTO_UDP;
	iph->tot_len = htons(len);
	iph->saddr = htonl(0x0a000102);
	iph->daddr = htonl(0x0a000164);
	skb_set_transport_header(skb, sizeof(*iph));
	uh = skb_put_zero(skb, sizeof(*uh));
	uh->source = htons(5060);
	uh->dest = htons(5060);
	uh->len = htons(sizeof(*uh) + payload_len);
	skb_put_data(skb, payload, payload_len);
	skb->protocol = htons(ETH_P_IP);
	return skb;
}

static int run_bench(void)
{
	union nf_inet_addr caddr = { .ip = htonl(0x0a000102) };
	union nf_inet_addr vaddr = { .ip = htonl(0x0a000164) };
	u64 fill, fill_min, hash = 0, hash_min = 0, match = 0, match_min = 0, dup, dup_min;
	u64 re, re_min, atom, atom_min;
	unsigned int chunks = clamp_t(u32, DIV_ROUND_UP(iterations, CHUNK), 1, MAX_CHUNKS);
	struct ip_vs_conn_param p = {
		/* As ip_vs_conn_fill_param() sets it: engines may read their per-net state. */
		.ipvs = net_ipvs(&init_net),
		.caddr = &caddr,
		.vaddr = &vaddr,
		.cport = htons(5060),
		.vport = htons(5060),
		.protocol = IPPROTO_UDP,
		.af = AF_INET,
	};
	struct ip_vs_conn *ct = NULL;
	char *id = NULL, *ct_id = NULL;
	volatile u32 sink = 0, hits = 0;
	getbyname_t getbyname;
	struct sk_buff *skb;
	struct ip_vs_pe *pe;
	u8 id_len = 0;
	int ret;

	getbyname = resolve_getbyname();
	if (!getbyname)
		return -ENOENT;
	pe = getbyname("sip");
	if (!pe)
		return -ESRCH;
	p.pe = pe;
	skb = bench_skb();
	if (!skb) {
		ret = -ENOMEM;
		goto out_pe;
	}

	/* One call outside the timing: the Call-ID the engine finds, if any. */
	ret = pe->fill_param(&p, skb);
	if (ret == 0 && p.pe_data) {
		id = p.pe_data;
		id_len = p.pe_data_len;
	}

	TIME_CHUNKS(chunks, {
		p.pe_data = NULL;
		p.pe_data_len = 0;
		pe->fill_param(&p, skb);
		kfree(p.pe_data);
	});
	summarize(chunks, &fill, &fill_min);

	/* The allocator's share of that: a copy of the same length, freed. */
	TIME_CHUNKS(chunks, kfree(kmemdup(payload, id_len ? id_len : 1, GFP_ATOMIC)));
	summarize(chunks, &dup, &dup_min);
	TIME_CHUNKS(chunks, {
		char *copy = krealloc(NULL, id_len ? id_len : 1, GFP_ATOMIC);

		if (copy)
			memcpy(copy, payload, id_len ? id_len : 1);
		kfree(copy);
	});
	summarize(chunks, &re, &re_min);
	TIME_CHUNKS(chunks, {
		atomic64_inc(&counter);
	});
	summarize(chunks, &atom, &atom_min);

	if (id) {
		ret = -ENOMEM;
		ct = kzalloc(sizeof(*ct), GFP_KERNEL);
		ct_id = kmemdup(id, id_len, GFP_KERNEL);
		if (!ct || !ct_id)
			goto out;
		p.pe_data = id;
		p.pe_data_len = id_len;
#ifdef IP_VS_RHT_TABLE_ID_MASK
		/* Linux 7.1's resizable tables: the engine seeds its hash from the table's key. */
		{
			struct ip_vs_rht t = {};

			t.hash_key.key[0] = 0x9e3779b97f4a7c15ULL;
			t.hash_key.key[1] = 0x6a09e667f3bcc909ULL;
			TIME_CHUNKS(chunks, {
				t.hash_key.key[0] += i;
				sink += pe->hashkey_raw(&p, &t, false);
			});
		}
#else
		TIME_CHUNKS(chunks, sink += pe->hashkey_raw(&p, i, false));
#endif
		summarize(chunks, &hash, &hash_min);
		pr_debug("hash checksum %u\n", sink);

		/* The template of the same call: every field compared, the Call-ID in full. */
		ct->af = AF_INET;
		ct->caddr = caddr;
		ct->vaddr = vaddr;
		ct->vport = p.vport;
		ct->protocol = IPPROTO_UDP;
		ct->flags = IP_VS_CONN_F_TEMPLATE;
		ct->pe_data = ct_id;
		ct->pe_data_len = id_len;
		TIME_CHUNKS(chunks, hits += pe->ct_match(&p, ct));
		summarize(chunks, &match, &match_min);
		if (hits != chunks * CHUNK)
			pr_warn("ct_match did not match its own template\n");
	}

	snprintf(result, sizeof(result),
		 "engine=%s callid_len=%u iterations=%u page_off=%lu fill_param=%llu.%03llu hashkey_raw=%llu.%03llu ct_match=%llu.%03llu kmemdup=%llu.%03llu krealloc=%llu.%03llu atomics=%llu.%03llu fill_param_min=%llu.%03llu hashkey_raw_min=%llu.%03llu ct_match_min=%llu.%03llu kmemdup_min=%llu.%03llu krealloc_min=%llu.%03llu atomics_min=%llu.%03llu\n",
		 pe->module ? module_name(pe->module) : "builtin", id_len, chunks * CHUNK,
		 offset_in_page(skb->data + sizeof(struct iphdr) + sizeof(struct udphdr)),
		 fill / 1000, fill % 1000, hash / 1000, hash % 1000,
		 match / 1000, match % 1000, dup / 1000, dup % 1000, re / 1000, re % 1000,
		 atom / 1000, atom % 1000,
		 fill_min / 1000, fill_min % 1000, hash_min / 1000, hash_min % 1000,
		 match_min / 1000, match_min % 1000, dup_min / 1000, dup_min % 1000,
		 re_min / 1000, re_min % 1000, atom_min / 1000, atom_min % 1000);
	ret = 0;
out:
	kfree(ct_id);
	kfree(ct);
	kfree(id);
	kfree_skb(skb);
out_pe:
	ip_vs_pe_put(pe);
	return ret;
}

static ssize_t payload_write(struct file *f, const char __user *buf, size_t count,
			     loff_t *ppos)
{
	ssize_t n;

	mutex_lock(&lock);
	if (*ppos == 0)
		payload_len = 0;
	n = simple_write_to_buffer(payload, sizeof(payload), ppos, buf, count);
	if (n > 0)
		payload_len = *ppos;
	mutex_unlock(&lock);
	return n;
}

static const struct file_operations payload_fops = {
	.owner = THIS_MODULE,
	.write = payload_write,
	.llseek = default_llseek,
};

static ssize_t run_write(struct file *f, const char __user *buf, size_t count, loff_t *ppos)
{
	int ret;

	mutex_lock(&lock);
	result[0] = '\0';
	ret = payload_len ? run_bench() : -ENODATA;
	mutex_unlock(&lock);
	return ret ? ret : count;
}

static ssize_t run_read(struct file *f, char __user *buf, size_t count, loff_t *ppos)
{
	ssize_t n;

	mutex_lock(&lock);
	n = simple_read_from_buffer(buf, count, ppos, result, strlen(result));
	mutex_unlock(&lock);
	return n;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.write = run_write,
	.read = run_read,
	.llseek = default_llseek,
};

static int __init pe_sip_bench_init(void)
{
	dir = debugfs_create_dir("pe_sip_bench", NULL);
	debugfs_create_file("payload", 0200, dir, NULL, &payload_fops);
	debugfs_create_file("run", 0600, dir, NULL, &run_fops);
	debugfs_create_u32("iterations", 0600, dir, &iterations);
	debugfs_create_u32("headroom", 0600, dir, &headroom);
	return 0;
}

static void __exit pe_sip_bench_exit(void)
{
	debugfs_remove(dir);
}

module_init(pe_sip_bench_init);
module_exit(pe_sip_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Times the registered IPVS sip persistence engine's operations");
