/* Exponential backoff with jitter (see backoff.h). */
#include "campaign/backoff.h"

#include <sys/random.h>

#include "campaign/clock.h"

int64_t
backoff_jitter(int64_t ms)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)clock_mono_ms();
	return (int64_t)((double)ms * (0.8 + 0.4 * (double)(r % 1000) / 1000.0));
}

int64_t
backoff_ms(int failures, int64_t first_ms, int64_t max_ms)
{
	double ms = (double)first_ms;

	for (int i = 1; i < failures && ms < (double)max_ms; i++)
		ms *= 1.5;
	if (ms > (double)max_ms)
		ms = (double)max_ms;
	return backoff_jitter((int64_t)ms);
}
