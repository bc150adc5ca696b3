#!/bin/sh
# Render the man pages from the docs with pandoc, so docs/ stays the one
# source: shipd(8) is docs/operations.md, shipd-units(5) docs/units.md, and
# shipctl(1) is shipctl's own help (its command table) with the exit status
# section of docs/operations.md.
#
#   scripts/man.sh OUTDIR SHIPCTL-BINARY
set -eu
cd "$(dirname "$0")/.."

out=$1
shipctl=$2
version=$(sed -n 's/^#define SHIPD_VERSION[[:space:]]*"\(.*\)"/\1/p' \
    common/proto.h)
command -v pandoc >/dev/null 2>&1 || {
	echo "man: pandoc is not installed (scripts/deps.sh installs it)" >&2
	exit 1
}
mkdir -p "$out"

# render NAME SECTION TITLE: markdown on stdin whose sections are "##"
# headings (the docs' "#" title line is dropped first) to OUTDIR/NAME.SECTION
render() {
	pandoc -s -f gfm -t man --shift-heading-level-by=-1 \
	    -M title="$1" -M section="$2" -M header="$3" \
	    -M footer="shipd $version" -o "$out/$1.$2.tmp"
	mv "$out/$1.$2.tmp" "$out/$1.$2"
}

# The body of a doc: without its "# Title" line.
body() {
	sed '1{/^# /d}' "$1"
}

# One "## " section of a doc, heading included.
section() {
	awk -v h="## $2" '$0 == h { on = 1; print; next }
	    on && /^## / { exit } on' "$1"
}

{
	printf '## NAME\n\nshipd - single-host container orchestrator daemon\n\n'
	printf '## DESCRIPTION\n\n'
	printf 'shipd owns the Docker Engine socket and deploys stacks of unit '
	printf 'files (see **shipd-units**(5)) for **shipctl**(1).\n\n'
	body docs/operations.md
	printf '\n## SEE ALSO\n\n**shipctl**(1), **shipd-units**(5), '
	printf '**systemd.service**(5); the docs in /usr/local/share/doc/shipd '
	printf '(or under the PREFIX shipd was installed with).\n'
} | render shipd 8 "System Manager's Manual"

{
	printf '## NAME\n\nshipd-units - unit files of a shipd stack\n\n'
	printf '## DESCRIPTION\n\n'
	body docs/units.md
	printf '\n## SEE ALSO\n\n**shipctl**(1), **shipd**(8)\n'
} | render shipd-units 5 "File Formats Manual"

{
	printf '## NAME\n\nshipctl - control shipd, the container orchestrator\n\n'
	printf '## SYNOPSIS\n\n'
	printf '**shipctl** [**-s** *SOCKET*] [**--json**] *COMMAND* [*ARGS*]\n\n'
	printf '## DESCRIPTION\n\n'
	printf 'shipctl talks to **shipd**(8) over its control socket. '
	printf 'What follows is its own help, command by command.\n\n'
	printf '```\n'
	"$shipctl" help
	printf '```\n\n## COMMANDS\n\n'
	"$shipctl" __complete 1 shipctl | while read -r cmd; do
		printf '### %s\n\n```\n' "$cmd"
		"$shipctl" help "$cmd"
		printf '```\n\n'
	done
	printf '## ENVIRONMENT\n\n'
	# shellcheck disable=SC2016 # markdown backquotes, not expansions
	printf -- '- `SHIPD_SOCKET`: the control socket, when **-s** is not given\n'
	# shellcheck disable=SC2016
	printf -- '- `SHIPD_STACK`: the stack, when **--stack** is not given\n'
	# shellcheck disable=SC2016
	printf -- '- `SHIPD_ENV`: the unit directory'"'"'s environment, when **-e** is not given\n'
	# shellcheck disable=SC2016
	printf -- '- `NO_COLOR`: no colour even on a terminal\n\n'
	section docs/operations.md "Exit status of shipctl" |
	    sed '1s/.*/## EXIT STATUS/'
	section docs/operations.md "Scripts: --json" |
	    sed '1s/.*/## JSON OUTPUT/'
	printf '\n```\n'
	"$shipctl" help json
	printf '```\n'
	printf '\n## SEE ALSO\n\n**shipd**(8), **shipd-units**(5)\n'
} | render shipctl 1 "User Commands"
