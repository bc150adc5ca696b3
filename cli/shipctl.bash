# bash completion for shipctl.  Installed as
# $(PREFIX)/share/bash-completion/completions/shipctl.  The candidates come
# from `shipctl __complete CWORD WORD...`: commands and options from
# shipctl's own command table, stack and service names from shipd (at most
# a second's wait, nothing when shipd does not answer).

_shipctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} out

	out=$("${COMP_WORDS[0]}" __complete "$COMP_CWORD" "${COMP_WORDS[@]}" \
	    2>/dev/null) || return 0
	case $out in
	@dirs)	mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
	@files)	mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	*)	mapfile -t COMPREPLY <<<"$out"
		[ -z "$out" ] && COMPREPLY=()
		# SERVICE= of scale: let the count follow without a space.
		if [ "${#COMPREPLY[@]}" = 1 ] &&
		    [ "${COMPREPLY[0]%=}" != "${COMPREPLY[0]}" ]; then
			compopt -o nospace 2>/dev/null
		fi
		;;
	esac
	return 0
}
complete -F _shipctl shipctl
