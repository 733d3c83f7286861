/*
 * progress.c - what the subcommands show while the library works, and how
 * Ctrl-C stops it, both through lowrank_opts_set_progress: a progress bar
 * on stderr when stderr is a terminal and the work has lasted a second, and
 * a SIGINT that cancels the computation so that the command exits cleanly
 * (status 130, no half-written output).  A second Ctrl-C kills at once.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "tool.h"

#define BAR_WIDTH 40
#define QUIET_SECONDS 1.0 /* shorter work shows no bar */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    if (interrupted) { /* the second Ctrl-C: the default action, now */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    interrupted = 1;
}

void tool_progress_start(tool_progress *p, const char *command, lowrank_opts *opts, int quiet)
{
    p->command = command;
    p->start = tool_now();
    p->shown = 0;
    p->quiet = quiet || !isatty(STDERR_FILENO);
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    /* a SIGINT ignored by whoever started us (nohup, a background job) stays so */
    if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(SIGINT, &sa, NULL);
    if (opts)
        lowrank_opts_set_progress(opts, tool_progress_report, p);
}

int tool_progress_report(double fraction, void *user)
{
    tool_progress *p = user;
    if (interrupted)
        return 1;
    if (p->quiet || tool_now() - p->start < QUIET_SECONDS)
        return 0;
    int filled = (int)(fraction * BAR_WIDTH + 0.5);
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\rlowrank %s: [%s] %3.0f%%", p->command, bar, 100 * fraction);
    fflush(stderr);
    p->shown = 1;
    return 0;
}

void tool_progress_end(tool_progress *p)
{
    if (p->shown)
        fprintf(stderr, "\r%*s\r", BAR_WIDTH + 24, "");
    p->shown = 0;
}

int tool_interrupted(void) { return interrupted != 0; }

int tool_interrupt_status(void)
{
    fprintf(stderr, "lowrank: interrupted\n");
    return 130;
}
