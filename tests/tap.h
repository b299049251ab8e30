/*
 * tap.h: a tiny TAP harness for unit tests, header only.
 *
 *	ok(cond, "fmt", ...)	one test point
 *	is_int(got, want, "fmt", ...)
 *	is_str(got, want, "fmt", ...)
 *	is_mem(got, want, len, "fmt", ...)
 *	return done_testing();	from main(): prints the plan, exit 1 on any failure
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_fail;

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_fail++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return cond;
}

#define is_int(got, want, ...)                                                                     \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (!ok(g_ == w_, __VA_ARGS__))                                                    \
			printf("#   got %lld, want %lld (%s:%d)\n", g_, w_, __FILE__, __LINE__);   \
	} while (0)

#define is_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))                             \
			printf("#   got '%s'\n#  want '%s' (%s:%d)\n", g_ ? g_ : "(null)",         \
			       w_ ? w_ : "(null)", __FILE__, __LINE__);                            \
	} while (0)

#define is_mem(got, want, len, ...)                                                                \
	do {                                                                                       \
		if (!ok(memcmp((got), (want), (len)) == 0, __VA_ARGS__))                           \
			printf("#   memory differs (%s:%d)\n", __FILE__, __LINE__);                \
	} while (0)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	if (tap_fail)
		printf("# %d of %d failed\n", tap_fail, tap_n);
	return tap_fail ? 1 : 0;
}

#endif
