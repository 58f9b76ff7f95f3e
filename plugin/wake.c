/* SPDX-License-Identifier: MIT */
/* wake.c: the SIGURG wake-up of the broker's loop (see wake.h for why a
 * signal). The note the handler leaves is the one process-wide state: a
 * signal handler has no other place to put it. */
#include "plugin/wake.h"

#include <string.h>

static volatile sig_atomic_t wake_noted;

static void on_sigurg(int sig)
{
    (void)sig;
    wake_noted = 1;
}

int wake_install(sigset_t *saved, struct dd_errbuf *eb)
{
    struct sigaction sa;
    sigset_t urg;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigurg;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGURG, &sa, NULL) != 0)
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot install the SIGURG handler");
    sigemptyset(&urg);
    sigaddset(&urg, SIGURG);
    pthread_sigmask(SIG_BLOCK, &urg, saved);
    return DD_OK;
}

void wake_unblock(const sigset_t *saved)
{
    pthread_sigmask(SIG_SETMASK, saved, NULL);
}

void wake_uninstall(void)
{
    signal(SIGURG, SIG_DFL);
}

void wake_broker(pthread_t broker)
{
    pthread_kill(broker, SIGURG);
}

bool wake_taken(void)
{
    if (!wake_noted)
        return false;
    wake_noted = 0;
    return true;
}
