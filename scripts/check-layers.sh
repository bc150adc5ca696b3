#!/bin/bash
# The layering check: reads who calls whom from the built objects' symbol
# tables (a symbol one object uses and another defines is an arrow) and fails
# on a call from a lower layer to a higher one, on a cycle between modules,
# and on a daemon or common .c over 800 lines.  The #include graph would not
# do: shared headers hide cycles that the objects show.
#
#   scripts/check-layers.sh [BUILD_DIR]          check (default build/)
#   scripts/check-layers.sh --map [BUILD_DIR]    markdown table of modules
#   scripts/check-layers.sh --dot [BUILD_DIR]    graphviz, violations in red
#
# A module is one .o under BUILD_DIR/{common,daemon,cli}, named by its source
# (build/daemon/ops/plan.o is daemon/ops/plan.c).  Layers, bottom to top:
# common, then the folders of daemon/ (core engine state backup ops ctl),
# then daemon/main.c.  shipctl's cli/ may use only itself and common; common
# uses only itself; the daemon never uses cli.  Within a layer modules may
# call each other, but not in a cycle.
# Symbols no module defines (libc, libuv, ...) are not arrows.
#
# Exit 0 when clean, 1 on any violation, 2 when it cannot run.  Violations
# go to stdout, one a line ("layer: ", "cycle: ", "size: "), then one
# summary line.  Notes on stale or missing objects go to stderr.
#
# CHECK_LAYERS_SRC is the source tree the objects were built from (default:
# this repository); the self-test points it at a scratch tree.
set -u

LAYERS="core engine state backup ops ctl"
MAX_LINES=800

mode=check
case "${1:-}" in
--map)	mode="map"; shift ;;
--dot)	mode="dot"; shift ;;
-h|--help)
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
	exit 0 ;;
-*)	echo "usage: check-layers.sh [--map|--dot] [BUILD_DIR]" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "usage: check-layers.sh [--map|--dot] [BUILD_DIR]" >&2; exit 2; }
build=${1:-build}
build=${build%/}
src=${CHECK_LAYERS_SRC:-$(cd "$(dirname "$0")/.." && pwd)}

command -v nm >/dev/null 2>&1 || { echo "check-layers: nm not found (binutils)" >&2; exit 2; }
[ -d "$build" ] || { echo "check-layers: no build directory $build (run make all)" >&2; exit 2; }
[ -d "$src" ] || { echo "check-layers: no source tree $src" >&2; exit 2; }

# Objects whose source still exists; an object left from a moved or deleted
# source is not a module any more.
objs=()
records=
while IFS= read -r o; do
	s=${o#"$build"/}
	s=${s%.o}.c
	if [ ! -f "$src/$s" ]; then
		echo "check-layers: skipping $o: no $s (left from a moved file?)" >&2
		continue
	fi
	[ "$src/$s" -nt "$o" ] &&
		echo "check-layers: $o is older than $s (run make all)" >&2
	objs+=("$o")
	records+="M $o $s"$'\n'
done < <(find "$build/common" "$build/daemon" "$build/cli" -name '*.o' \
    2>/dev/null | LC_ALL=C sort)
if [ ${#objs[@]} = 0 ]; then
	echo "check-layers: no objects under $build/{common,daemon,cli} (run make all)" >&2
	exit 2
fi

# Every source of the three trees, with its line count.
while IFS= read -r s; do
	records+="L $(wc -l <"$src/$s") $s"$'\n'
	[ -f "$build/${s%.c}.o" ] ||
		echo "check-layers: no $build/${s%.c}.o for $s (run make all)" >&2
done < <(cd "$src" && { find common cli -maxdepth 1 -name '*.c'
    find daemon -name '*.c'; } 2>/dev/null | LC_ALL=C sort)

syms=$(LC_ALL=C nm -A -P -g "${objs[@]}") || {
	echo "check-layers: nm failed" >&2
	exit 2
}

# The graph, in POSIX awk (mawk is Debian's default).  Input records:
#   M OBJECT SOURCE     a module
#   L LINES SOURCE      a source file
#   S OBJECT: SYMBOL TYPE [VALUE SIZE]    one line of nm -A -P -g
# shellcheck disable=SC2016
prog='
BEGIN {
	nlayer = split(layers, layer, " ")
	for (i = 1; i <= nlayer; i++) {
		rank[layer[i]] = i
		islayer[layer[i]] = 1
	}
	rank["common"] = 0
	rank["main"] = nlayer + 1
	rank["cli"] = nlayer + 2	# a program of its own, not above main
	rank["?"] = nlayer + 3
	nv = 0
}

$1 == "M" { nmod++; mod[nmod] = $3; o2m[$2] = nmod; next }
$1 == "L" { nsrc++; srcs[nsrc] = $3; lines[$3] = $2; next }
$1 == "S" {
	m = o2m[substr($2, 1, length($2) - 1)]
	if (!m)
		next
	if ($4 == "U" || (($4 == "w" || $4 == "v") && $5 == "")) {
		nuse++; use_m[nuse] = m; use_s[nuse] = $3
	} else {
		ndef[$3]++; def[$3, ndef[$3]] = m
	}
	next
}

# common, cli, or the layer folder of a daemon module ("?" for none)
function layer_of(p,   n, f) {
	n = split(p, f, "/")
	if (f[1] == "common" && n == 2) return "common"
	if (f[1] == "cli" && n == 2) return "cli"
	if (p == "daemon/main.c") return "main"
	if (f[1] == "daemon" && n == 3 && (f[2] in islayer))
		return f[2]
	return "?"
}

function program(l) {
	return (l == "common" || l == "cli") ? l : "daemon"
}

function violation(msg) {
	nv++
	print msg
}

# Sort a[1..n] (strings, or numbers when num) in place; the lists are small.
function isort(a, n, num,   i, j, x) {
	for (i = 2; i <= n; i++) {
		x = a[i]
		for (j = i - 1; j >= 1 && (num ? a[j] + 0 > x + 0 : a[j] "" > x ""); j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
}

# Tarjan: comp[v] is the strongly connected component of module v.
function strong(v,   i, w) {
	idx[v] = low[v] = ++counter
	stk[++sp] = v
	onstk[v] = 1
	for (i = 1; i <= nadj[v]; i++) {
		w = adj[v, i]
		if (!idx[w]) {
			strong(w)
			if (low[w] < low[v]) low[v] = low[w]
		} else if (onstk[w] && idx[w] < low[v])
			low[v] = idx[w]
	}
	if (low[v] == idx[v]) {
		ncomp++
		do {
			w = stk[sp--]
			onstk[w] = 0
			comp[w] = ncomp
			csize[ncomp]++
		} while (w != v)
	}
}

# Shortest path from s to t inside component c, into path[1..npath].
function bfs(s, t, c,   h, qt, x, i, w, n, rev) {
	split("", seen); split("", prev); split("", q)
	q[1] = s; h = 1; qt = 1; seen[s] = 1
	while (h <= qt) {
		x = q[h++]
		if (x == t) break
		for (i = 1; i <= nadj[x]; i++) {
			w = adj[x, i]
			if (comp[w] != c || (w in seen)) continue
			seen[w] = 1; prev[w] = x; q[++qt] = w
		}
	}
	n = 0
	for (x = t; x != s; x = prev[x])
		rev[++n] = x
	rev[++n] = s
	npath = n
	for (i = 1; i <= n; i++)
		path[i] = rev[n + 1 - i]
}

function first_sym(k,   f) {
	split(asyms[k], f, " ")
	return f[1]
}

function bad_arrow(u, v,   lu, lv) {
	lu = layer_of(mod[u]); lv = layer_of(mod[v])
	if (lu == "?" || lv == "?") return ""	# reported as a module
	if (lu == "common" && lv != "common")
		return "common may use only common"
	if (lu == "cli" && lv != "cli" && lv != "common")
		return "cli may use only cli and common"
	if (program(lu) == "daemon" && lv == "cli")
		return "the daemon may not use cli"
	if (program(lu) == "daemon" && program(lv) == "daemon" &&
	    rank[lu] < rank[lv])
		return lu " is below " lv
	return ""
}

END {
	# Arrows: each use resolves to a definer in the same program, else in
	# common, else anywhere (shipd and shipctl may each define a name).
	for (k = 1; k <= nuse; k++) {
		u = use_m[k]; s = use_s[k]
		best = 0; bs = 0
		pu = program(layer_of(mod[u]))
		for (j = 1; j <= ndef[s]; j++) {
			d = def[s, j]
			if (d == u) continue
			pd = program(layer_of(mod[d]))
			sc = pd == pu ? 3 : pd == "common" ? 2 : 1
			if (sc > bs) { bs = sc; best = d }
		}
		if (!best) continue
		if (!((u, best) in akey)) {
			narrow++
			akey[u, best] = narrow; au[narrow] = u; av[narrow] = best
			asyms[narrow] = ""
		}
		a = akey[u, best]
		asyms[a] = asyms[a] (asyms[a] == "" ? "" : " ") s
	}
	for (a = 1; a <= narrow; a++) {
		n = split(asyms[a], f, " ")
		isort(f, n, 0)
		asyms[a] = f[1]
		for (i = 2; i <= n; i++)
			asyms[a] = asyms[a] " " f[i]
		ord[a] = au[a] * 100000 + av[a]
	}
	# Arrows in order of (caller, callee), both in path order.
	isort(ord, narrow, 1)
	for (i = 1; i <= narrow; i++) {
		u = int(ord[i] / 100000); v = ord[i] % 100000
		adj[u, ++nadj[u]] = v
		sorted[i] = akey[u, v]
	}
	for (v = 1; v <= nmod; v++)
		if (!idx[v]) strong(v)

	if (mode == "map") { print_map(); exit 0 }
	if (mode == "dot") { print_dot(); exit 0 }

	for (i = 1; i <= nsrc; i++)
		if (srcs[i] ~ /^daemon\// && layer_of(srcs[i]) == "?")
			violation("layer: " srcs[i] ": not in a layer folder (daemon/{" \
			    layers_csv() "}/*.c or daemon/main.c)")
	for (i = 1; i <= narrow; i++) {
		a = sorted[i]; u = au[a]; v = av[a]
		why = bad_arrow(u, v)
		if (why != "")
			violation("layer: " mod[u] " (" layer_of(mod[u]) ") -> " \
			    mod[v] " (" layer_of(mod[v]) ") via " join_syms(asyms[a]) \
			    ": " why)
	}
	# Cycles, one component after another: every arrow inside a component
	# lies on one printed cycle, the shortest back from its callee.
	for (m = 1; m <= nmod; m++) {
		c = comp[m]
		if (csize[c] < 2 || (c in cdone)) continue
		cdone[c] = 1
		print_cycles(c)
	}
	for (i = 1; i <= nsrc; i++) {
		s = srcs[i]
		if ((s ~ /^daemon\// || s ~ /^common\/[^\/]*$/) && lines[s] > max)
			violation("size: " s ": " lines[s] " lines (limit " max ")")
	}
	printf "layers: %d modules, %d arrows, %d violation%s\n", nmod, narrow,
	    nv, nv == 1 ? "" : "s"
	exit nv ? 1 : 0
}

function print_cycles(c,   i, j, a, b, u, v, line, via) {
	for (i = 1; i <= narrow; i++) {
		a = sorted[i]; u = au[a]; v = av[a]
		if (comp[u] != c || comp[v] != c || covered[a]) continue
		bfs(v, u, c)
		# u -> v, then path[1] = v ... path[npath] = u
		line = "cycle: " mod[u]; via = first_sym(a)
		covered[a] = 1
		for (j = 1; j <= npath; j++) {
			line = line " -> " mod[path[j]]
			if (j == npath) continue
			b = akey[path[j], path[j + 1]]
			covered[b] = 1
			via = via ", " first_sym(b)
		}
		violation(line " (via " via ")")
	}
}

function join_syms(s) {
	gsub(/ /, ", ", s)
	return s
}

function layers_csv(   s) {
	s = layers
	gsub(/ /, ",", s)
	return s
}

function print_map(   i, j, n, r, l, calls) {
	# modules by layer, bottom first, then by path
	for (i = 1; i <= nmod; i++)
		r[i] = rank[layer_of(mod[i])] * 100000 + i
	isort(r, nmod, 1)
	print "| module | layer | lines | calls |"
	print "|---|---|---:|---|"
	for (j = 1; j <= nmod; j++) {
		i = r[j] % 100000
		calls = ""
		for (n = 1; n <= nadj[i]; n++)
			calls = calls (n > 1 ? ", " : "") mod[adj[i, n]]
		l = (mod[i] in lines) ? lines[mod[i]] : "?"
		printf "| %s | %s | %s | %s |\n", mod[i], layer_of(mod[i]), l, calls
	}
}

function print_dot(   i, j, a, u, v, l, col, nodes) {
	print "digraph layers {"
	print "\trankdir=BT; node [shape=box, fontsize=10];"
	for (j = 0; j <= nlayer + 3; j++) {
		l = j == 0 ? "common" : j <= nlayer ? layer[j] : \
		    j == nlayer + 1 ? "main" : j == nlayer + 2 ? "cli" : "?"
		nodes = ""
		for (i = 1; i <= nmod; i++)
			if (layer_of(mod[i]) == l)
				nodes = nodes " \"" mod[i] "\";"
		if (nodes != "")
			printf "\tsubgraph \"cluster_%s\" { label=\"%s\";%s }\n",
			    l, l, nodes
	}
	for (i = 1; i <= narrow; i++) {
		a = sorted[i]; u = au[a]; v = av[a]
		col = (bad_arrow(u, v) != "" || \
		    (comp[u] == comp[v] && csize[comp[u]] > 1)) ? " [color=red]" : ""
		printf "\t\"%s\" -> \"%s\"%s;\n", mod[u], mod[v], col
	}
	print "}"
}
'

{ printf '%s' "$records"; printf '%s\n' "$syms" | sed 's/^/S /'; } |
	LC_ALL=C awk -v layers="$LAYERS" -v max="$MAX_LINES" -v mode="$mode" "$prog"
