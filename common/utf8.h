/* UTF-8 validation shared by the writers that must emit valid text (JSON, XML). */
#ifndef CHAOSDRILL_COMMON_UTF8_H
#define CHAOSDRILL_COMMON_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one (overlong forms,
 * surrogates and code points above U+10FFFF are not). Reads no further than a NUL. */
size_t utf8_len(const unsigned char *p);

#endif
