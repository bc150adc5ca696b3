#!/bin/bash
# make install DESTDIR=D into an empty directory: every file where README
# says ("Installing"), `man -w` finds the pages there, the installed units
# name the installed paths; make uninstall takes every file away again.
# shipd-test: exclusive (make in the tree would rebuild a stale build/ under the others)
. "$(dirname "$0")/lib.sh"

command -v man >/dev/null || fail "man is not installed (scripts/deps.sh)"
D=$IT_DIR/dest
mkdir "$D"
make -s -C "$ROOT" install DESTDIR="$D" > "$IT_DIR/make.out" 2>&1 ||
    fail "make install: $(tail -5 "$IT_DIR/make.out")"

for f in sbin/shipd bin/shipctl share/man/man1/shipctl.1 \
    share/man/man5/shipd-units.5 share/man/man8/shipd.8 \
    lib/systemd/system/shipd.service lib/systemd/system/shipd-backup.service \
    lib/systemd/system/shipd-backup.timer \
    share/bash-completion/completions/shipctl share/doc/shipd/README.md \
    share/doc/shipd/operations.md share/doc/shipd/units.md; do
	[ -f "$D/usr/local/$f" ] || fail "make install left no /usr/local/$f"
done
n=$(find "$D" -type f | wc -l)
ok "make install DESTDIR puts $n files under /usr/local"

got=$(MANPATH=$D/usr/local/share/man man -w shipctl)
assert_eq "$got" "$D/usr/local/share/man/man1/shipctl.1" "man -w shipctl"
got=$(MANPATH=$D/usr/local/share/man man -w 8 shipd)
assert_eq "$got" "$D/usr/local/share/man/man8/shipd.8" "man -w 8 shipd"
got=$(MANPATH=$D/usr/local/share/man man -w 5 shipd-units)
assert_eq "$got" "$D/usr/local/share/man/man5/shipd-units.5" "man -w 5 shipd-units"
page=$(MANPATH=$D/usr/local/share/man MANWIDTH=80 man shipctl 2>/dev/null)
for cmd in $("$SHIPCTL" __complete 1 shipctl); do
	echo "$page" | grep -Eq "usage: shipctl $cmd( |$)" ||
	    fail "man shipctl lacks the command $cmd"
done
ok "man -w finds shipctl(1), shipd(8), shipd-units(5); shipctl(1) has every command"

u=$D/usr/local/lib/systemd/system/shipd.service
grep -qx 'ExecStart=/usr/local/sbin/shipd --group docker' "$u" ||
    fail "shipd.service runs: $(grep ExecStart "$u")"
grep -q '^Documentation=.*man:shipd(8)' "$u" || fail "no man:shipd(8) in $u"
grep -q '^Documentation=file:///usr/local/share/doc/shipd/operations.md' "$u" ||
    fail "shipd.service names no installed doc"

# The strict policy example, in /etc whatever the PREFIX; shipd reads it.
cf=$D/etc/shipd/shipd.yaml
[ -f "$cf" ] || fail "make install left no /etc/shipd/shipd.yaml"
[ -f "$D/usr/local/share/doc/shipd/shipd.yaml.example" ] ||
    fail "make install left no shipd.yaml.example"
out=$("$D/usr/local/sbin/shipd" -c "$cf" --check-config) ||
    fail "the installed configuration does not read: $out"
assert_match "$out" "bind_roots: /srv, /var/lib/app; privileged: false" "installed policy"
# An edited configuration is the operator's: install keeps it.
echo "policy: {bind_roots: [/]}" > "$cf"
make -s -C "$ROOT" install DESTDIR="$D" > "$IT_DIR/make.out" 2>&1 ||
    fail "make install again: $(tail -5 "$IT_DIR/make.out")"
assert_eq "$(cat "$cf")" "policy: {bind_roots: [/]}" "an edited shipd.yaml after install"
cp "$ROOT/systemd/shipd.yaml" "$cf"
ok "make install puts the strict policy in /etc/shipd/shipd.yaml and never replaces an edited one"

# Another PREFIX: the paths in the units follow it.
P=$IT_DIR/prefix
make -s -C "$ROOT" install DESTDIR="$D" PREFIX=/opt/shipd \
    > "$IT_DIR/make.out" 2>&1 || fail "make install PREFIX=/opt/shipd"
u=$D/opt/shipd/lib/systemd/system/shipd-backup.service
grep -qx 'ExecStart=/opt/shipd/bin/shipctl backup --quiet' "$u" ||
    fail "PREFIX=/opt/shipd: $(grep ExecStart "$u")"
make -s -C "$ROOT" install DESTDIR="$P" PREFIX=/usr \
    > "$IT_DIR/make.out" 2>&1 || fail "make install PREFIX=/usr"
[ -f "$P/lib/systemd/system/shipd.service" ] ||
    fail "PREFIX=/usr puts no unit in /lib/systemd/system"
ok "units follow PREFIX: /opt/shipd/bin/shipctl; PREFIX=/usr in /lib/systemd/system"

make -s -C "$ROOT" uninstall DESTDIR="$D" > "$IT_DIR/make.out" 2>&1 ||
    fail "make uninstall"
left=$(find "$D/usr/local" -type f)
assert_eq "$left" "" "files left by make uninstall"
[ ! -e "$D/etc/shipd" ] || fail "make uninstall left the unchanged /etc/shipd/shipd.yaml"
ok "make uninstall removes every installed file"
