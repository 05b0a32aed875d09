/* Unit tests of sys_shim_fit: which programs the preload shim can be loaded into, told from
 * crafted ELF headers (a dynamic program, a static one, a static-pie, another machine or
 * word size, a script, a truncated file) written to a temporary directory. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "faults/sys/shimctl.h"

static char dir[64], shim[128], prog[128];

static void put(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A 64-bit ELF of machine with program headers of the given types. */
static void elf64(const char *path, uint16_t machine, uint16_t type, const uint32_t *pt, size_t n)
{
	struct {
		Elf64_Ehdr e;
		Elf64_Phdr p[4];
	} f = { 0 };

	memcpy(f.e.e_ident, ELFMAG, SELFMAG);
	f.e.e_ident[EI_CLASS] = ELFCLASS64;
	f.e.e_ident[EI_DATA] = ELFDATA2LSB;
	f.e.e_ident[EI_VERSION] = EV_CURRENT;
	f.e.e_type = type;
	f.e.e_machine = machine;
	f.e.e_phoff = offsetof(typeof(f), p);
	f.e.e_phentsize = sizeof(Elf64_Phdr);
	f.e.e_phnum = (uint16_t)n;
	for (size_t i = 0; i < n; i++)
		f.p[i].p_type = pt[i];
	put(path, &f, sizeof(f));
}

static enum sys_shim_fit fit_of(void)
{
	enum sys_shim_fit fit = (enum sys_shim_fit) - 1;

	assert_int_equal(sys_shim_fit(shim, prog, &fit), 0);
	return fit;
}

static void test_fit(void **state)
{
	static const uint32_t dynamic[] = { PT_PHDR, PT_INTERP, PT_LOAD, PT_DYNAMIC };
	static const uint32_t static_exe[] = { PT_LOAD, PT_LOAD, PT_NOTE };
	static const uint32_t static_pie[] = { PT_LOAD, PT_DYNAMIC }; /* no loader either */

	elf64(shim, EM_X86_64, ET_DYN, (const uint32_t[]){ PT_LOAD, PT_DYNAMIC }, 2);
	elf64(prog, EM_X86_64, ET_DYN, dynamic, 4);
	assert_int_equal(fit_of(), SYS_SHIM_FITS);
	elf64(prog, EM_X86_64, ET_EXEC, dynamic, 4);
	assert_int_equal(fit_of(), SYS_SHIM_FITS);
	elf64(prog, EM_X86_64, ET_EXEC, static_exe, 3);
	assert_int_equal(fit_of(), SYS_SHIM_STATIC);
	elf64(prog, EM_X86_64, ET_DYN, static_pie, 2);
	assert_int_equal(fit_of(), SYS_SHIM_STATIC);
	elf64(prog, EM_AARCH64, ET_DYN, dynamic, 4);
	assert_int_equal(fit_of(), SYS_SHIM_FOREIGN);
	put(prog, "#!/bin/sh\nexec kvlog-server \"$@\"\n", 33);
	assert_int_equal(fit_of(), SYS_SHIM_NOT_ELF);
	put(prog, ELFMAG "\2\1", 6); /* a truncated header */
	assert_int_equal(fit_of(), SYS_SHIM_NOT_ELF);
	assert_string_equal(sys_shim_fit_name(SYS_SHIM_STATIC),
			    "statically linked (no dynamic loader to preload the shim into)");
}

/* A 32-bit program is foreign to a 64-bit shim: the loader would skip the shim. */
static void test_word_size(void **state)
{
	Elf32_Ehdr e = { 0 };

	elf64(shim, EM_X86_64, ET_DYN, (const uint32_t[]){ PT_LOAD }, 1);
	memcpy(e.e_ident, ELFMAG, SELFMAG);
	e.e_ident[EI_CLASS] = ELFCLASS32;
	e.e_ident[EI_DATA] = ELFDATA2LSB;
	e.e_machine = EM_386;
	put(prog, &e, sizeof(e));
	assert_int_equal(fit_of(), SYS_SHIM_FOREIGN);
}

static void test_errors(void **state)
{
	enum sys_shim_fit fit;

	elf64(shim, EM_X86_64, ET_DYN, (const uint32_t[]){ PT_LOAD }, 1);
	unlink(prog);
	assert_int_equal(sys_shim_fit(shim, prog, &fit), -ENOENT);
	put(prog, "x", 1);
	put(shim, "not a library", 13);
	assert_int_equal(sys_shim_fit(shim, prog, &fit), -ENOEXEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_word_size),
		cmocka_unit_test(test_errors),
	};
	int r;

	snprintf(dir, sizeof(dir), "/tmp/shimfit-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(shim, sizeof(shim), "%s/shim.so", dir);
	snprintf(prog, sizeof(prog), "%s/prog", dir);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(shim);
	unlink(prog);
	rmdir(dir);
	return r;
}
