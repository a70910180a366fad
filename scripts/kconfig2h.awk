# Turn a Kconfig .config into build/config.h: every `config X` declared in the Kconfig files
# given first becomes ENABLE_X 1 or 0, so code can write `if (ENABLE_X)`.
# Usage: awk -f kconfig2h.awk Kconfig .config > config.h
FNR == 1 { file++ }
file == 1 && /^config [A-Z0-9_]+/ { sym[$2] = 0; order[n++] = $2; next }
file == 2 && /^CONFIG_[A-Z0-9_]+=y$/ {
	s = substr($0, 8); sub(/=y$/, "", s)
	if (s in sym) sym[s] = 1
	next
}
file == 2 && /^CONFIG_[A-Z0-9_]+=/ {
	s = substr($0, 8); v = s; sub(/=.*/, "", s); sub(/^[^=]*=/, "", v)
	val[s] = v
	next
}
END {
	print "/* Generated from .config by scripts/kconfig2h.awk; do not edit. */"
	print "#ifndef BERTH_CONFIG_GEN_H"
	print "#define BERTH_CONFIG_GEN_H"
	for (i = 0; i < n; i++) printf "#define ENABLE_%s %d\n", order[i], sym[order[i]]
	for (s in val) printf "#define CONFIG_%s %s\n", s, val[s]
	print "#endif"
}
