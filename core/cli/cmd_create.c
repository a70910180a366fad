/* `berth create`: the first half of `berth run`: resolve the image, merge its config with the
 * options, record the container and print its id; `berth start -a` runs it. Same options as
 * run (Docker run reference; `docker create`). */
#include "cli.h"

int cmd_create(struct cli_ctx *ctx, int argc, char **argv)
{
	return run_main(ctx, argc, argv, false);
}
