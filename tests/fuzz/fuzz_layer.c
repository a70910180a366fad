/* libFuzzer target for layer conversion: any byte stream (a tar, possibly gzip or zstd
 * compressed) must convert into a squashfs image or fail with an error, never crash, leak or
 * write outside the output file. */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/err.h"
#include "image/layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sqfs_options opt = { .comp = SQFS_COMP_GZIP, .level = 1, .threads = 1, .block_size = 4096 };
	struct berr *err = NULL;
	struct digest d;
	int in = memfd_create("in", MFD_CLOEXEC), out = memfd_create("out", MFD_CLOEXEC);

	if (in < 0 || out < 0 || write(in, data, size) != (ssize_t) size || lseek(in, 0, SEEK_SET) != 0)
		__builtin_trap();
	if (layer_convert_fd(in, out, &opt, &d, NULL, &err) < 0) {
		if (err == NULL || err->msg == NULL)
			__builtin_trap(); /* a failure always says why */
		berr_free(err);
	}
	close(in);
	close(out);
	return 0;
}
