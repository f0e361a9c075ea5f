// SPDX-License-Identifier: GPL-2.0
/*
 * Preloaded into sipp by qemu-tests/lib/ipvslab/sipp.py (LD_PRELOAD). sipp's main loop
 * waits for its sockets with a timeout of 1 ms even when it has nothing to do; under the
 * emulated debug kernel each of those system calls is so costly that three or four idle
 * sipp processes keep both virtual CPUs busy, and the traffic under test waits behind them. Waiting 20 ms instead changes
 * nothing for the messages (a datagram wakes sipp at once); only sipp's own timers (call
 * pacing, pauses, timeouts) get 20 ms coarser.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/epoll.h>

typedef int (*epoll_wait_fn)(int, struct epoll_event *, int, int);

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	static epoll_wait_fn real;

	if (!real)
		real = (epoll_wait_fn)dlsym(RTLD_NEXT, "epoll_wait");
	return real(epfd, events, maxevents, timeout == 1 ? 20 : timeout);
}
