/* fork() while other threads hold the agent's locks: the child must be able
 * to take every one of them (registry, resource, topic names, side-table,
 * in-flight shards). Without the fork handlers a child forked while a
 * thread held one would hang on it forever. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/inflight.h"
#include "agent/msgtab.h"
#include "agent/resource.h"
#include "tap.h"

#define FORKS 300

static volatile int stop;

/* One round of every locked operation a hook performs. */
static void touch_all(unsigned i)
{
        char name[32];
        struct kotel_ctx ctx;
        char dummy;

        snprintf(name, sizeof(name), "topic-%u", i % 64);
        kotel_clients_get((const void *)(uintptr_t)(0x1000 + (i % 8)));
        kotel_handles_put(&dummy, (const void *)0x1000);
        kotel_handles_rk(&dummy);
        kotel_topic_intern(name);
        kotel_resource_get();
        kotel_msgtab_find(&dummy, &ctx, NULL);
        kotel_inflight_take(&dummy);
}

static void *hammer(void *arg)
{
        unsigned i = 0;

        (void)arg;
        while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
                touch_all(i++);
        return NULL;
}

/* 0: exited cleanly; 1: hung (killed after 10 s); 2: other failure. */
static int wait_child(pid_t pid)
{
        struct timespec d = {0, 1000000};
        int st;

        for (int ms = 0; ms < 10000; ms++) {
                pid_t r = waitpid(pid, &st, WNOHANG);

                if (r == pid)
                        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 2;
                if (r < 0)
                        return 2;
                nanosleep(&d, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return 1;
}

int main(void)
{
        pthread_t th[3];
        int hung = 0, bad = 0;

        pthread_atfork(kotel_agent_atfork_prepare, kotel_agent_atfork_parent,
                       kotel_agent_atfork_child);
        for (int i = 0; i < 3; i++)
                pthread_create(&th[i], NULL, hammer, NULL);
        for (int f = 0; f < FORKS && !hung; f++) {
                pid_t pid = fork();

                if (pid == 0) {
                        touch_all((unsigned)f);
                        touch_all((unsigned)f + 1);
                        _exit(0);
                }
                if (pid < 0) {
                        bad++;
                        continue;
                }
                switch (wait_child(pid)) {
                case 1: hung++; break;
                case 2: bad++; break;
                }
        }
        __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
        for (int i = 0; i < 3; i++)
                pthread_join(th[i], NULL);
        CHECK(hung == 0, "no child hangs on a lock held at fork time");
        CHECK(bad == 0, "every child exits cleanly");
        /* The parent's locks were released after each fork. */
        touch_all(7);
        CHECK(1, "the parent still takes every lock after the forks");
        TAP_DONE();
}
