#!/usr/bin/env bats
# Image commands a user meets: load (OCI layout and docker save archives, compressed or not,
# from a file or stdin), images, inspect, tag, rmi, save, mount, prune, system df, store
# verify; bad archives and power cuts leave the store as it was.

load images_helpers

setup_file() { images_setup_file; }
setup() { images_setup; }
teardown() { images_teardown; }

@test "load reads an OCI layout archive and images lists it like Docker" {
	berth_load -i "$REF/oci.tar"
	[[ "$output" == *"Loaded image: busybox:1.0"* ]]
	[[ "$output" == *"Loaded image: multi:1.0"* ]]
	run "$BERTH" images
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
	[[ "$output" =~ busybox\ +1\.0\ +[0-9a-f]{12}\ +[A-Za-z0-9\ ]+ago\ +[0-9.]+[kM]B ]]
	[[ "$output" =~ multi\ +1\.0\ +[0-9a-f]{12} ]]
	assert_80_columns
	# Image ID is the config digest, as Docker shows it.
	id=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["config"]["digest"][7:19])' \
		"$REF/oci/blobs/sha256/$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$REF/oci/index.json")")
	[[ "$output" == *"$id"* ]]
}

@test "load reads gzip and zstd archives from stdin, with the same result" {
	"$BERTH" load -q <"$REF/oci.tar.gz"
	a=$(image_digests busybox:1.0)
	rm -rf "$BERTH_ROOT"
	run "$BERTH" load <"$REF/oci.tar.zst"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Loaded image: busybox:1.0"* ]]
	[ "$(image_digests busybox:1.0)" = "$a" ]
	rm -rf "$BERTH_ROOT"
	"$BERTH" load -q -i - <"$REF/oci.tar"
	[ "$(image_digests busybox:1.0)" = "$a" ]
}

@test "load reads docker save archives; layers convert to the same chain ids as OCI" {
	berth_load -i "$REF/docker.tar"
	[ "$output" = "Loaded image: busybox:1.0" ]
	run "$BERTH" load <"$REF/multi-docker.tar"
	[ "$status" -eq 0 ]
	[ "$output" = "Loaded image: multi:1.0" ]
	docker_layers=$(ls "$BERTH_ROOT/layers")
	oci_id=$(image_digests multi:1.0 | cut -d' ' -f1)
	rm -rf "$BERTH_ROOT"
	berth_load -q -i "$REF/oci.tar"
	[ "$(ls "$BERTH_ROOT/layers")" = "$docker_layers" ]
	[ "$(image_digests multi:1.0 | cut -d' ' -f1)" = "$oci_id" ]
}

@test "docker save layers get OCI media types detected from their bytes" {
	berth_load -q -i "$REF/docker.tar"
	manifest=$(image_digests busybox:1.0 | cut -d' ' -f2)
	run python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["mediaType"], m["config"]["mediaType"], *[l["mediaType"] for l in m["layers"]])' \
		"$BERTH_ROOT/blobs/sha256/${manifest#sha256:}"
	[ "$output" = "application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.config.v1+json application/vnd.oci.image.layer.v1.tar" ]
}

@test "image inspect prints Docker-shaped JSON" {
	berth_load -q -i "$REF/oci.tar"
	run "$BERTH" image inspect busybox:1.0 multi:1.0
	[ "$status" -eq 0 ]
	printf '%s' "$output" | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert len(v) == 2, v
b, m = v
assert b["Id"].startswith("sha256:") and len(b["Id"]) == 71, b["Id"]
assert b["RepoTags"] == ["busybox:1.0"], b["RepoTags"]
assert b["RepoDigests"][0].startswith("busybox@sha256:"), b["RepoDigests"]
assert b["Os"] == "linux" and b["Architecture"], b
c = b["Config"]
assert c["Cmd"] == ["sh"], c
assert c["Env"] == ["PATH=/bin"], c
assert c["WorkingDir"] == "/data", c
assert c["ExposedPorts"] == {"80/tcp": {}}, c
assert c["Labels"] == {"org.example": "berth"}, c
assert c["Entrypoint"] is None, c
assert b["RootFS"]["Type"] == "layers" and len(b["RootFS"]["Layers"]) == 1, b["RootFS"]
assert len(m["RootFS"]["Layers"]) == 2 and m["RootFS"]["Layers"][0] == b["RootFS"]["Layers"][0]
assert b["Size"] > 1000000, b["Size"]
assert b["Created"].startswith("20"), b["Created"]
'
	run "$BERTH" image inspect nosuch:1
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such image: nosuch:1"* ]]
}

@test "images: -q, --digests, --format json and a REPOSITORY filter" {
	berth_load -q -i "$REF/oci.tar"
	run "$BERTH" images -q
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" =~ ^[0-9a-f]{12}$ ]]
	run "$BERTH" images --digests
	[[ "${lines[0]}" == *"DIGEST"* ]]
	[[ "$output" =~ sha256:[0-9a-f]{12} ]]
	assert_80_columns
	run "$BERTH" images multi
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == multi* ]]
	run "$BERTH" images busybox:2.0
	[ "${#lines[@]}" -eq 1 ]
	run "$BERTH" images --format json
	printf '%s' "$output" | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert sorted(i["Repository"] for i in v) == ["busybox", "multi"], v
assert all(i["ID"].startswith("sha256:") and i["Size"] > 0 and i["Tag"] == "1.0" for i in v), v'
}

@test "image mount shows the merged tree of a multi-layer image, as umoci unpacks it" {
	berth_load -q -i "$REF/oci.tar"
	run "$BERTH" image mount multi:1.0 "$TMP/mnt"
	[ "$status" -eq 0 ]
	# The whiteout, the opaque directory and the replaced file, by hand first.
	[ ! -e "$TMP/mnt/etc/gone" ]
	[ -e "$TMP/mnt/etc/keep" ]
	[ "$(ls "$TMP/mnt/etc/opq")" = c ]
	[ "$(cat "$TMP/mnt/etc/replace")" = new ]
	[ "$(stat -c %a "$TMP/mnt/etc/replace")" = 755 ]
	[ "$(stat -c %a "$TMP/mnt/data/private")" = 600 ]
	diff -r --no-dereference "$TMP/mnt" "$REF/multi.unpacked"
	diff <(tree_listing "$TMP/mnt") <(tree_listing "$REF/multi.unpacked")
	# Read-only, and busybox runs from it.
	run touch "$TMP/mnt/x"
	[ "$status" -ne 0 ]
	[ "$("$TMP/mnt/bin/busybox" cat "$TMP/mnt/etc/keep")" = keep ]
	run "$BERTH" image umount "$TMP/mnt"
	[ "$status" -eq 0 ]
	# The layer mounts went with it.
	! grep -q "$BERTH_RUN_DIR/layers/" /proc/self/mountinfo
}

@test "image mount and umount report what is wrong" {
	run "$BERTH" image mount nosuch:1 "$TMP/mnt"
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such image: nosuch:1"* ]]
	run "$BERTH" image umount "$TMP"
	[ "$status" -eq 1 ]
	[[ "$output" == *"is not mounted"* ]]
	run "$BERTH" image mount busybox:1.0
	[ "$status" -eq 2 ]
}

@test "tag adds a name; rmi by name only untags while another name is left" {
	berth_load -q -i "$REF/oci.tar"
	run "$BERTH" tag busybox:1.0 reg.example:5000/team/app:v2
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	run "$BERTH" images reg.example:5000/team/app
	[[ "$output" == *"reg.example:5000/team/app   v2"* ]]
	a=$(image_digests busybox:1.0)
	[ "$(image_digests reg.example:5000/team/app:v2)" = "$a" ]
	run "$BERTH" rmi busybox:1.0
	[ "$status" -eq 0 ]
	[ "$output" = "Untagged: busybox:1.0" ]
	[ "$(image_digests reg.example:5000/team/app:v2)" = "$a" ]
	run "$BERTH" tag nosuch:1 x:1
	[ "$status" -eq 1 ]
	run "$BERTH" tag busybox:1.0 'Bad Name'
	[ "$status" -ne 0 ]
}

@test "rmi by ID refuses an image with several names unless forced, then deletes it" {
	berth_load -q -i "$REF/oci.tar"
	"$BERTH" tag busybox:1.0 other:1
	id=$("$BERTH" images -q busybox)
	run "$BERTH" rmi "$id"
	[ "$status" -eq 1 ]
	[[ "$output" == *"conflict: unable to delete $id (must be forced)"* ]]
	run "$BERTH" rmi -f "${id:0:6}"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Untagged: busybox:1.0"* ]]
	[[ "$output" == *"Untagged: other:1"* ]]
	[[ "$output" == *"Deleted: sha256:$id"* ]]
	run "$BERTH" images -q
	[ "${#lines[@]}" -eq 1 ]
	# multi still mounts: its base layer was kept.
	"$BERTH" image mount multi:1.0 "$TMP/mnt"
	[ -e "$TMP/mnt/bin/busybox" ]
	"$BERTH" image umount "$TMP/mnt"
	run "$BERTH" rmi nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such image: nosuch"* ]]
}

@test "rmi never removes a mounted layer" {
	berth_load -q -i "$REF/oci.tar"
	"$BERTH" rmi busybox:1.0 >/dev/null
	"$BERTH" image mount multi:1.0 "$TMP/mnt"
	run "$BERTH" rmi multi:1.0
	[ "$status" -eq 1 ]
	[[ "$output" == *"mounted"* ]]
	run "$BERTH" rmi -f multi:1.0
	[ "$status" -eq 0 ]
	[ "$(ls "$BERTH_ROOT/layers" | wc -l)" -eq 2 ]
	[ "$(cat "$TMP/mnt/etc/replace")" = new ]
	run "$BERTH" image prune -f
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 unused layers kept: mounted"* ]]
	[ "$(ls "$BERTH_ROOT/layers" | wc -l)" -eq 2 ]
	"$BERTH" image umount "$TMP/mnt"
	run "$BERTH" image prune -f
	[ "$(ls "$BERTH_ROOT/layers" | wc -l)" -eq 0 ]
	[ "$(ls "$BERTH_ROOT/blobs/sha256" | wc -l)" -eq 0 ]
}

@test "save then load into an empty root gives identical digests" {
	berth_load -q -i "$REF/docker.tar"
	berth_load -q -i "$REF/oci.tar"
	a=$(image_digests busybox:1.0)
	m=$(image_digests multi:1.0)
	run "$BERTH" save -o "$TMP/out.tar" busybox:1.0 multi:1.0
	[ "$status" -eq 0 ]
	tar -tf "$TMP/out.tar" | grep -qx oci-layout
	tar -tf "$TMP/out.tar" | grep -qx index.json
	"$BERTH" save multi:1.0 >"$TMP/stdout.tar"
	export BERTH_ROOT=$TMP/root2
	berth_load -i "$TMP/out.tar"
	[[ "$output" == *"Loaded image: busybox:1.0"* ]]
	[ "$(image_digests busybox:1.0)" = "$a" ]
	[ "$(image_digests multi:1.0)" = "$m" ]
	export BERTH_ROOT=$TMP/root3
	berth_load -i "$TMP/stdout.tar"
	[ "$output" = "Loaded image: multi:1.0" ]
	[ "$(image_digests multi:1.0)" = "$m" ]
	run "$BERTH" save -o "$TMP/x.tar" nosuch
	[ "$status" -eq 1 ]
	[ ! -e "$TMP/x.tar" ]
}

@test "keep-layer-blobs = no drops layer blobs; save then says why it cannot" {
	printf '[store]\nkeep-layer-blobs = no\n' >"$BERTH_CONFIG"
	berth_load -q -i "$REF/oci.tar"
	manifest=$(image_digests busybox:1.0 | cut -d' ' -f2)
	layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' \
		"$BERTH_ROOT/blobs/sha256/${manifest#sha256:}")
	[ ! -e "$BERTH_ROOT/blobs/sha256/${layer#sha256:}" ]
	[ -e "$BERTH_ROOT/blobs/sha256/${manifest#sha256:}" ]
	run "$BERTH" save -o "$TMP/out.tar" busybox:1.0
	[ "$status" -eq 1 ]
	[[ "$output" == *"layer $layer of busybox:1.0 is not kept on this device ([store] keep-layer-blobs = no); pull it again or save it elsewhere"* ]]
	[ ! -e "$TMP/out.tar" ]
	"$BERTH" image mount busybox:1.0 "$TMP/mnt"
	[ -x "$TMP/mnt/bin/busybox" ]
	"$BERTH" image umount "$TMP/mnt"
	run "$BERTH" store verify
	[ "$status" -eq 0 ]
}

@test "[store] settings: compression picks the squashfs compressor; dir keeps layers as directories" {
	printf '[store]\ncompression = gzip\nblock-size = 64K\n' >"$BERTH_CONFIG"
	berth_load -q -i "$REF/docker.tar"
	f=$(ls "$BERTH_ROOT"/layers/*.sqfs)
	# Superblock: compression id at 20 (1 = gzip), block size at 12.
	[ "$(od -An -tu2 -j20 -N2 "$f" | tr -d ' ')" = 1 ]
	[ "$(od -An -tu4 -j12 -N4 "$f" | tr -d ' ')" = 65536 ]
	printf '[store]\nlayer-format = dir\n' >"$BERTH_CONFIG"
	rm -rf "$BERTH_ROOT"
	berth_load -q -i "$REF/multi-docker.tar"
	[ -z "$(ls "$BERTH_ROOT"/layers/ | grep sqfs)" ]
	[ "$(find "$BERTH_ROOT/layers" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 2 ]
	# Whiteouts, opaque dir and replaced file as overlayfs sees them over directories.
	multi_mounts_as_unpacked
	"$BERTH" rmi multi:1.0
	"$BERTH" image prune -f
	[ -z "$(ls -A "$BERTH_ROOT/layers")" ]
	[ -z "$(ls -A "$BERTH_ROOT/tmp")" ]
	printf '[store]\nlayer-format = tarball\n' >"$BERTH_CONFIG"
	run "$BERTH" load -i "$REF/oci.tar"
	[ "$status" -eq 2 ]
	[[ "$output" == *"layer-format"* ]]
}

@test "[store] compression = xz: layers are xz squashfs that mount; a level past 9 is refused naming the key" {
	require_squashfs_xz
	command -v unsquashfs >/dev/null || skip "unsquashfs is not installed (scripts/deps.sh)"
	printf '[store]\ncompression = xz\ncompression-level = 10\n' >"$BERTH_CONFIG"
	run "$BERTH" load -i "$REF/multi-docker.tar"
	[ "$status" -eq 2 ]
	[[ "$output" == *"[store] compression-level = 10, but xz's levels go from 0 to 9"* ]]
	[ -z "$(ls -A "$BERTH_ROOT/layers" 2>/dev/null)" ]
	printf '[store]\ncompression = xz\ncompression-level = 0\n' >"$BERTH_CONFIG"
	berth_load -q -i "$REF/multi-docker.tar"
	[ "$(ls "$BERTH_ROOT"/layers/*.sqfs | wc -l)" -eq 2 ]
	for f in "$BERTH_ROOT"/layers/*.sqfs; do
		# Superblock: compression id at 20 (4 = xz).
		[ "$(od -An -tu2 -j20 -N2 "$f" | tr -d ' ')" = 4 ]
		unsquashfs -s "$f" | grep -q '^Compression xz$'
	done
	multi_mounts_as_unpacked
}

@test "[store] convert-threads: one thread (the default) or one per CPU give the same layer bytes" {
	berth_load -q -i "$REF/multi-docker.tar"
	mkdir "$TMP/one"
	cp "$BERTH_ROOT"/layers/*.sqfs "$TMP/one/"
	"$BERTH" rmi multi:1.0
	"$BERTH" image prune -f
	printf '[store]\nconvert-threads = auto\n' >"$BERTH_CONFIG"
	berth_load -q -i "$REF/multi-docker.tar"
	for f in "$TMP"/one/*.sqfs; do
		cmp "$f" "$BERTH_ROOT/layers/${f##*/}"
	done
	printf '[store]\nconvert-threads = 0\n' >"$BERTH_CONFIG"
	run "$BERTH" load -i "$REF/multi-docker.tar"
	[ "$status" -eq 2 ]
	[[ "$output" == *"berth.conf:2"*"convert-threads"* ]]
}

@test "an image loaded without a name shows as <none> and prune removes it" {
	mkdir "$TMP/lay"
	tar -C "$TMP/lay" -xf "$REF/oci.tar"
	# Keep only the entry whose ref.name is a bare tag: that names no repository.
	python3 - "$TMP/lay/index.json" <<'EOF'
import json, sys
p = sys.argv[1]
i = json.load(open(p))
i["manifests"] = [m for m in i["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "bare"]
json.dump(i, open(p, "w"))
EOF
	(cd "$TMP/lay" && tar -cf "$TMP/bare.tar" oci-layout index.json blobs)
	berth_load -i "$TMP/bare.tar"
	[[ "$output" =~ ^Loaded\ image\ ID:\ sha256:[0-9a-f]{64}$ ]]
	run "$BERTH" images
	[[ "${lines[1]}" =~ ^\<none\>\ +\<none\>\ +[0-9a-f]{12} ]]
	run "$BERTH" image prune -f
	[ "$status" -eq 0 ]
	[[ "$output" == *"Deleted Images:"* ]]
	[[ "$output" == *"untagged: sha256:"* ]]
	[[ "$output" == *"Total reclaimed space: "*MB* ]]
	run "$BERTH" images -q
	[ "${#lines[@]}" -eq 0 ]
	[ "$(ls "$BERTH_ROOT/layers" | wc -l)" -eq 0 ]
	# Tagging a dangling image names it.
	berth_load -q -i "$TMP/bare.tar"
	id=$("$BERTH" images -q)
	"$BERTH" tag "$id" named:1
	run "$BERTH" images
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == named* ]]
}

@test "image prune removes unreferenced blobs, layers and leftovers, keeps what is used" {
	berth_load -q -i "$REF/oci.tar"
	"$BERTH" rmi multi:1.0 >/dev/null
	before=$(root_listing)
	# Garbage a power cut could leave: a blob and a layer nothing names, tmp/ files.
	printf 'orphan' >"$TMP/orphan"
	h=$(sha256sum "$TMP/orphan" | cut -c1-64)
	cp "$TMP/orphan" "$BERTH_ROOT/blobs/sha256/$h"
	cp "$(ls "$BERTH_ROOT"/layers/*.sqfs | head -1)" "$BERTH_ROOT/layers/$(printf '%064d' 7).sqfs"
	echo x >"$BERTH_ROOT/tmp/blob-AbCdEf"
	echo x >"$BERTH_ROOT/tmp/$h.partial"
	run "$BERTH" image prune
	# Without -f and with no answer on stdin, nothing is removed.
	[[ "$output" == *"Are you sure you want to continue? [y/N]"* ]]
	[ -e "$BERTH_ROOT/blobs/sha256/$h" ]
	run "$BERTH" image prune -f
	[ "$status" -eq 0 ]
	[[ "$output" == *"deleted: sha256:$h"* ]]
	[[ "$output" == *"deleted: sha256:$(printf '%064d' 7)"* ]]
	[ ! -e "$BERTH_ROOT/blobs/sha256/$h" ]
	[ ! -e "$BERTH_ROOT/tmp/blob-AbCdEf" ]
	[ -e "$BERTH_ROOT/tmp/$h.partial" ]
	[ "$(root_listing)" = "$before" ]
	"$BERTH" image mount busybox:1.0 "$TMP/mnt"
	"$BERTH" image umount "$TMP/mnt"
	run "$BERTH" image prune -a -f
	[ ! -e "$BERTH_ROOT/tmp/$h.partial" ]
	[ "$(root_listing)" = "$before" ]
}

@test "system df shows images, containers and volumes" {
	berth_load -q -i "$REF/oci.tar"
	run "$BERTH" system df
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^TYPE\ +TOTAL\ +ACTIVE\ +SIZE\ +RECLAIMABLE$ ]]
	[[ "${lines[1]}" =~ ^Images\ +2\ +0\ +[0-9.]+MB\ +0B\ \(0%\)$ ]]
	[[ "${lines[2]}" =~ ^Containers\ +0\ +0\ +0B\ +0B\ \(0%\)$ ]]
	[[ "${lines[3]}" =~ ^Local\ Volumes\ +0\ +0\ +0B\ +0B\ \(0%\)$ ]]
	assert_80_columns
	"$BERTH" image mount busybox:1.0 "$TMP/mnt"
	"$BERTH" rmi multi:1.0 >/dev/null
	printf 'x' >"$BERTH_ROOT/tmp/blob-x"
	run "$BERTH" system df --format json
	printf '%s' "$output" | python3 -c '
import json, sys
v = {t["Type"]: t for t in json.load(sys.stdin)}
assert v["Images"]["TotalCount"] == 1 and v["Images"]["Active"] == 1, v
assert v["Images"]["Reclaimable"] >= 1, v
assert v["Containers"]["TotalCount"] == 0, v'
	"$BERTH" image umount "$TMP/mnt"
	# A stopped container's writable layer and an unused volume are reclaimable.
	"$BERTH" run --name dfc -v dfvol:/data busybox:1.0 sh -c 'head -c 200000 /dev/zero > /big; head -c 300000 /dev/zero > /data/v'
	"$BERTH" rm dfc >/dev/null
	"$BERTH" run --name dfc2 busybox:1.0 sh -c 'head -c 200000 /dev/zero > /big'
	run "$BERTH" system df --format json
	printf '%s' "$output" | python3 -c '
import json, sys
v = {t["Type"]: t for t in json.load(sys.stdin)}
c, l = v["Containers"], v["Local Volumes"]
assert c["TotalCount"] == 1 and c["Active"] == 0 and c["Size"] >= 200000 and c["Reclaimable"] == c["Size"], c
assert l["TotalCount"] == 1 and l["Active"] == 0 and l["Reclaimable"] >= 300000, l'
	"$BERTH" rm dfc2 >/dev/null
	"$BERTH" volume rm dfvol >/dev/null
}

@test "store verify passes a sound store and finds a corrupt blob and a truncated layer" {
	berth_load -q -i "$REF/oci.tar"
	run "$BERTH" store verify
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 problems"* ]]
	manifest=$(image_digests multi:1.0 | cut -d' ' -f2)
	config=$(image_digests multi:1.0 | cut -d' ' -f1)
	# Flip a byte of a config blob, and cut the busybox layer short.
	f=$BERTH_ROOT/blobs/sha256/${config#sha256:}
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[5]^=1; open(p,"wb").write(b)' "$f"
	big=$(ls -S "$BERTH_ROOT"/layers/*.sqfs | head -1)
	truncate -s $(($(stat -c %s "$big") / 2)) "$big"
	run "$BERTH" store verify
	[ "$status" -eq 1 ]
	[[ "$output" == *"blob  ${config:0:19}: corrupt"* ]]
	[[ "$output" == *"layer $(basename "$big" | cut -c1-12): truncated"* ]]
	[[ "$output" == *"image docker.io/library/multi:1.0: broken"* ]]
	assert_80_columns
	run "$BERTH" store verify --repair
	[ "$status" -eq 1 ]
	[[ "$output" == *"(removed)"* ]]
	[ ! -e "$f" ]
	[ ! -e "$big" ]
	# Refs stay, reported as broken, so a later load or pull can mend them.
	grep -q multi "$BERTH_ROOT/refs.json"
	run "$BERTH" store verify
	[ "$status" -eq 1 ]
	[[ "$output" == *"image docker.io/library/busybox:1.0: layer 0"*"is"*"missing"* ]]
	# Loading the image again mends it.
	berth_load -q -i "$REF/oci.tar"
	run "$BERTH" store verify
	[ "$status" -eq 0 ]
}

@test "store verify lists tmp leftovers; --repair removes them and keeps partial downloads" {
	berth_load -q -i "$REF/docker.tar"
	echo x >"$BERTH_ROOT/tmp/$(printf '%064d' 1).sqfs.tmp"
	echo x >"$BERTH_ROOT/tmp/$(printf '%064d' 2).partial"
	run "$BERTH" store verify
	[ "$status" -eq 1 ]
	[[ "$output" == *"tmp/000000000000"*"leftover of interrupted work"* ]]
	[[ "$output" == *"resumable download, kept"* ]]
	run "$BERTH" store verify --repair
	[ "$status" -eq 0 ]
	run "$BERTH" store verify
	[ "$status" -eq 0 ]
	[ -e "$BERTH_ROOT/tmp/$(printf '%064d' 2).partial" ]
}

# A load that must fail and leave the data root as it was.
load_rejected() {
	local archive=$1 msg=$2 before
	before=$(root_listing)
	run "$BERTH" load -i "$archive"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$msg"* ]]
	[ "$(root_listing)" = "$before" ]
	run "$BERTH" store verify
	[ "$status" -eq 0 ]
}

@test "archives with escaping or absolute paths are rejected and change nothing" {
	berth_load -q -i "$REF/docker.tar"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$TMP/layout"
	echo x >"$TMP/x"
	py_tar "$TMP/up.tar" "oci-layout=$TMP/layout" "../../x=$TMP/x"
	load_rejected "$TMP/up.tar" "archive entry \`../../x\` escapes the archive root"
	py_tar "$TMP/abs.tar" "oci-layout=$TMP/layout" "/etc/x=$TMP/x"
	load_rejected "$TMP/abs.tar" "archive entry \`/etc/x\` is an absolute path"
	py_tar "$TMP/none.tar" "hello=$TMP/x"
	load_rejected "$TMP/none.tar" "is not an image archive"
	load_rejected /etc/hostname "Unrecognized archive format"
}

@test "a blob that does not match its name, or a layer that does not match its diff_id, is rejected" {
	berth_load -q -i "$REF/docker.tar"
	mkdir "$TMP/lay"
	tar -C "$TMP/lay" -xf "$REF/oci.tar"
	cp -a "$TMP/lay" "$TMP/bad"
	# multi's config: not in the store yet, so the archive's copy is read and checked.
	config=$(python3 -c '
import json, sys
d = sys.argv[1]
e = [m for m in json.load(open(d + "/index.json"))["manifests"]
     if m["annotations"]["org.opencontainers.image.ref.name"] == "multi:1.0"][0]
print(json.load(open(d + "/blobs/sha256/" + e["digest"][7:]))["config"]["digest"])' "$TMP/lay")
	printf ' ' >>"$TMP/bad/blobs/sha256/${config#sha256:}"
	(cd "$TMP/bad" && tar -cf "$TMP/bad.tar" oci-layout index.json blobs)
	load_rejected "$TMP/bad.tar" "\`blobs/sha256/${config#sha256:}\` does not match its name"
	# A consistent archive whose config claims another diff_id for the second layer.
	python3 - "$TMP/lay" <<'EOF'
import hashlib, json, os, sys
d = sys.argv[1]
def blob(h): return os.path.join(d, "blobs/sha256", h)
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(blob(h), "wb").write(data)
    return "sha256:" + h, len(data)
idx = json.load(open(os.path.join(d, "index.json")))
e = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "multi:1.0"][0]
man = json.load(open(blob(e["digest"][7:])))
cfg = json.load(open(blob(man["config"]["digest"][7:])))
cfg["rootfs"]["diff_ids"][1] = "sha256:" + "0" * 64
man["config"]["digest"], man["config"]["size"] = put(json.dumps(cfg).encode())
e["digest"], e["size"] = put(json.dumps(man).encode())
idx["manifests"] = [e]
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
EOF
	(cd "$TMP/lay" && tar -cf "$TMP/diffid.tar" oci-layout index.json blobs)
	load_rejected "$TMP/diffid.tar" "layer content does not match its diff_id"
}

@test "a truncated or corrupt stream is rejected and changes nothing" {
	berth_load -q -i "$REF/docker.tar"
	size=$(stat -c %s "$REF/multi-docker.tar")
	head -c $((size * 2 / 3)) "$REF/multi-docker.tar" >"$TMP/trunc.tar"
	load_rejected "$TMP/trunc.tar" "runcated"
	head -c $(($(stat -c %s "$REF/oci.tar.gz") / 2)) "$REF/oci.tar.gz" >"$TMP/trunc.tar.gz"
	load_rejected "$TMP/trunc.tar.gz" "truncated gzip input"
}

@test "load killed at random moments leaves a store that verifies and still mounts" {
	berth_load -q -i "$REF/oci.tar"
	"$BERTH" rmi multi:1.0 >/dev/null
	for i in $(seq 1 20); do
		delay=$(printf '0.%03d' $((RANDOM % 150 + 5)))
		timeout -s KILL "$delay" "$BERTH" load -q -i "$REF/multi-docker.tar" || true
		run "$BERTH" store verify
		echo "kill after ${delay}s: $output"
		# Anything wrong may only be a tmp/ leftover, which --repair cleans.
		if [ "$status" -ne 0 ]; then
			! printf '%s\n' "$output" | grep -Eq '^(blob|layer|image) '
			run "$BERTH" store verify --repair
			[ "$status" -eq 0 ]
		fi
		"$BERTH" image mount busybox:1.0 "$TMP/mnt"
		[ "$("$TMP/mnt/bin/busybox" cat "$TMP/mnt/etc/keep")" = keep ]
		"$BERTH" image umount "$TMP/mnt"
	done
	# A complete load afterwards works, and a prune leaves a clean store.
	berth_load -q -i "$REF/multi-docker.tar"
	"$BERTH" image prune -f >/dev/null
	run "$BERTH" store verify
	[ "$status" -eq 0 ]
	[[ "$output" != *"note  blobs"* ]]
}

@test "image prune killed at random moments leaves a store that verifies and still mounts" {
	berth_load -q -i "$REF/docker.tar"
	# Something for each prune to remove: the layout's images loaded without names.
	mkdir "$TMP/lay"
	tar -C "$TMP/lay" -xf "$REF/oci.tar"
	python3 - "$TMP/lay/index.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
for m in d["manifests"]:
    m.pop("annotations", None)
json.dump(d, open(p, "w"))
PY
	(cd "$TMP/lay" && tar -cf "$TMP/untagged.tar" oci-layout index.json blobs)
	for i in $(seq 1 20); do
		"$BERTH" load -q -i "$TMP/untagged.tar"
		"$BERTH" images | grep -q '<none>'
		# The layers of the multi-layer image are unique to it: they are what prune removes.
		delay=$(printf '0.%03d' $((RANDOM % 60 + 1)))
		timeout -s KILL "$delay" "$BERTH" image prune -f >/dev/null 2>&1 || true
		run "$BERTH" store verify
		echo "prune killed after ${delay}s: $output"
		if [ "$status" -ne 0 ]; then
			! printf '%s\n' "$output" | grep -Eq '^(blob|layer|image) '
			run "$BERTH" store verify --repair
			[ "$status" -eq 0 ]
		fi
		# The image still named is whole.
		"$BERTH" image mount busybox:1.0 "$TMP/mnt"
		[ "$("$TMP/mnt/bin/busybox" cat "$TMP/mnt/etc/keep")" = keep ]
		"$BERTH" image umount "$TMP/mnt"
	done
	"$BERTH" image prune -f >/dev/null
	run "$BERTH" store verify
	[ "$status" -eq 0 ]
}

@test "help for the image commands fits 80 columns" {
	for c in "load --help" "save --help" "images --help" "rmi --help" "tag --help" \
		"image --help" "image inspect --help" "image prune --help" "image mount --help" \
		"system --help" "system df --help" "store verify --help"; do
		run "$BERTH" $c
		[ "$status" -eq 0 ]
		assert_80_columns
	done
	run "$BERTH" image frob
	[ "$status" -eq 2 ]
}
