# The busybox image `app:1` that run.bats and daemon.bats use, made once per file with umoci:
# a passwd with user app, ENV, WORKDIR, a VOLUME with content, ENTRYPOINT ["ls","-l"] and
# CMD ["data"] as in the seed. Sets APP_TAR (a docker-archive) when the tools are there.
app_image_build() {
	[ "$(id -u)" = 0 ] || return 0
	command -v umoci >/dev/null && command -v skopeo >/dev/null && [ -x /bin/busybox ] || return 0
	local ref=$BATS_FILE_TMPDIR/ref r=$BATS_FILE_TMPDIR/ref/bundle
	mkdir -p "$ref"
	umoci init --layout "$ref/oci" >/dev/null
	umoci new --image "$ref/oci:app:1" >/dev/null
	umoci unpack --image "$ref/oci:app:1" "$r" >/dev/null
	mkdir -p "$r/rootfs/bin" "$r/rootfs/etc" "$r/rootfs/data/seed" "$r/rootfs/usr/lib" "$r/rootfs/srv" "$r/rootfs/tmp"
	cp /bin/busybox "$r/rootfs/bin/"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$r/rootfs/bin/$a"; done
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$r/rootfs/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n' >"$r/rootfs/etc/group"
	echo 'from the image' >"$r/rootfs/srv/content"
	echo seed >"$r/rootfs/data/seed/file"
	chmod 1777 "$r/rootfs/tmp"
	umoci repack --image "$ref/oci:app:1" "$r" >/dev/null
	umoci config --image "$ref/oci:app:1" --config.entrypoint ls --config.entrypoint -l \
		--config.cmd data --config.env GREETING=hello --config.env PATH=/bin \
		--config.workingdir / --config.volume /srv >/dev/null
	skopeo --insecure-policy copy -q "oci:$ref/oci:app:1" "docker-archive:$ref/app.tar:app:1" >/dev/null
	export APP_TAR=$ref/app.tar
}

# Nothing of this test's data root may stay mounted, looped or in a cgroup.
app_teardown() {
	[ -n "${BERTH_ROOT:-}" ] || return 0
	local leftovers
	release_layer_mounts
	leftovers=$(grep -c "$TMP" /proc/self/mountinfo || true)
	for m in $(grep "$TMP" /proc/self/mountinfo | awk '{ print $5 }' | sort -r); do umount -l "$m" 2>/dev/null; done
	[ "$leftovers" = 0 ] || { echo "mounts left behind: $leftovers"; berth_teardown; return 1; }
	[ -z "$(losetup -a | grep "$TMP")" ]
	no_cgroups_left
	berth_teardown
}

# No cgroup of a container of this data root is left (others' may run meanwhile).
no_cgroups_left() {
	local id left=
	for id in $(ls "$BERTH_ROOT/containers" 2>/dev/null); do
		left=$left$(find /sys/fs/cgroup -path "*/berth/$id" -type d 2>/dev/null)
	done
	[ -z "$left" ] || { echo "cgroups left behind: $left"; return 1; }
}
