/* CRC32C (Castagnoli), as used by the kvlog record framing and workload value checksums.
 * crc32c(0, "123456789", 9) == 0xe3069283. */
#ifndef CHAOSDRILL_COMMON_CRC32C_H
#define CHAOSDRILL_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over buf. Uses the SSE4.2 instruction when the CPU has it. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);
/* The table-driven software path, always available (tests compare the two). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
