/* Benchmark helper, preloaded into a converter (LD_PRELOAD): counts the bytes each compressor
 * call is fed and the thread CPU time spent inside it, and prints one line at exit, so
 * scripts/bench-convert.sh -s can tell compressor work from the rest for berth and its peers
 * alike. Wraps ZSTD_compressCCtx, deflate, libdeflate_zlib_compress (counted as deflate) and
 * lzma_stream_buffer_encode, the calls berth, tar2sqfs and mksquashfs make.
 * Build: cc -O2 -shared -fPIC -o compress_count.so compress_count.c -ldl */
#include <dlfcn.h>
#include <libdeflate.h>
#include <lzma.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

static atomic_ullong z_calls, z_in, z_ns, d_calls, d_in, d_ns, x_calls, x_in, x_ns;

static unsigned long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (unsigned long long) t.tv_sec * 1000000000ull + (unsigned long long) t.tv_nsec;
}

size_t ZSTD_compressCCtx(ZSTD_CCtx *c, void *dst, size_t cap, const void *src, size_t len,
			 int level)
{
	static size_t (*real)(ZSTD_CCtx *, void *, size_t, const void *, size_t, int);
	unsigned long long t = now_ns();
	size_t r;

	if (real == NULL)
		*(void **) &real = dlsym(RTLD_NEXT, "ZSTD_compressCCtx");
	r = real(c, dst, cap, src, len, level);
	z_ns += now_ns() - t;
	z_calls++;
	z_in += len;
	return r;
}

int deflate(z_streamp s, int flush)
{
	static int (*real)(z_streamp, int);
	unsigned long long t = now_ns(), before = s->total_in;
	int r;

	if (real == NULL)
		*(void **) &real = dlsym(RTLD_NEXT, "deflate");
	r = real(s, flush);
	d_ns += now_ns() - t;
	d_calls++;
	d_in += s->total_in - before;
	return r;
}

size_t libdeflate_zlib_compress(struct libdeflate_compressor *c, const void *in, size_t len,
			       void *out, size_t cap)
{
	static size_t (*real)(struct libdeflate_compressor *, const void *, size_t, void *, size_t);
	unsigned long long t = now_ns();
	size_t r;

	if (real == NULL)
		*(void **) &real = dlsym(RTLD_NEXT, "libdeflate_zlib_compress");
	r = real(c, in, len, out, cap);
	d_ns += now_ns() - t;
	d_calls++;
	d_in += len;
	return r;
}

lzma_ret lzma_stream_buffer_encode(lzma_filter *filters, lzma_check check,
				   const lzma_allocator *allocator, const uint8_t *in, size_t in_size,
				   uint8_t *out, size_t *out_pos, size_t out_size)
{
	static lzma_ret (*real)(lzma_filter *, lzma_check, const lzma_allocator *, const uint8_t *,
				size_t, uint8_t *, size_t *, size_t);
	unsigned long long t = now_ns();
	lzma_ret r;

	if (real == NULL)
		*(void **) &real = dlsym(RTLD_NEXT, "lzma_stream_buffer_encode");
	r = real(filters, check, allocator, in, in_size, out, out_pos, out_size);
	x_ns += now_ns() - t;
	x_calls++;
	x_in += in_size;
	return r;
}

__attribute__((destructor)) static void report(void)
{
	if (z_calls + d_calls + x_calls == 0)
		return;
	fprintf(stderr, "compress-count: zstd %llu calls %.1f MiB %.2f s, deflate %llu calls %.1f MiB %.2f s, "
		"xz %llu calls %.1f MiB %.2f s\n",
		(unsigned long long) z_calls, z_in / 1048576.0, z_ns / 1e9,
		(unsigned long long) d_calls, d_in / 1048576.0, d_ns / 1e9,
		(unsigned long long) x_calls, x_in / 1048576.0, x_ns / 1e9);
}
