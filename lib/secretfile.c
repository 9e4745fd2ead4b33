/*
 * Reading a secret file: one fstat for what it is and who may read it, one
 * bounded read, the buffer wiped after the copy.
 */
#include "campaign/secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "campaign/log.h"
#include "campaign/xmalloc.h"

static const char *
kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a pipe";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "not a regular file";
}

char *
secretfile_read(const char *path, char *err, size_t errlen)
{
	char buf[SECRETFILE_MAX + 1];
	char *secret = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: is %s; give the file that holds the secret", path,
		    kind(st.st_mode));
		goto out;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH))
		log_warnx("secret", "%s: other users can %s it (mode %04o): chmod o-rwx %s",
		    path, st.st_mode & S_IROTH ? "read" : "write", (unsigned)(st.st_mode & 07777),
		    path);
	while (len < SECRETFILE_MAX && (n = read(fd, buf + len, SECRETFILE_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "%s: empty file; write the secret on its first line", path);
		goto out;
	}
	len = strcspn(buf, "\n");
	while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	if (len == 0) {
		snprintf(err, errlen, "%s: the first line is empty; write the secret on it", path);
		goto out;
	}
	secret = xstrndup(buf, len);
out:
	explicit_bzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return secret;
}
