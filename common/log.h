/* Logging to stderr with levels. Only harness/ logs above debug (CONVENTIONS.md);
 * faults/ and targets' libraries use log_debug at most. */
#ifndef CHAOSDRILL_COMMON_LOG_H
#define CHAOSDRILL_COMMON_LOG_H

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level(enum log_level level);
/* Prefix every line with this program name ("chaosdrill" by default). Borrowed. */
void log_set_prog(const char *prog);

/* Called before each line is written (a live status line on the terminal clears itself);
 * NULL: none. */
void log_set_before_line(void (*fn)(void));

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
