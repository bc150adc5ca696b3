# bash completion for shipctl.  Installed as
# $(PREFIX)/share/bash-completion/completions/shipctl.  The candidates come
# from `shipctl __complete CWORD WORD...`: commands and options from
# shipctl's own command table, stack and service names from shipd (at most
# a second's wait, nothing when shipd does not answer).

_shipctl()
{
	local -a words=()
	local i w cword=0 eq=0 out

	# bash splits --stack=NAME at the "=" (COMP_WORDBREAKS): drop that
	# word so shipctl sees "--stack NAME"; when the word being completed
	# is the "=" itself, the candidates keep it in front.
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		if [ "$w" = = ] && [ "$i" -gt 0 ] &&
		    [ "${COMP_WORDS[i-1]#--}" != "${COMP_WORDS[i-1]}" ]; then
			if [ "$i" = "$COMP_CWORD" ]; then
				eq=1
				cword=${#words[@]}
				words+=("")
			fi
			continue
		fi
		[ "$i" = "$COMP_CWORD" ] && cword=${#words[@]}
		words+=("$w")
	done
	[ "$cword" = 0 ] && cword=${#words[@]}

	out=$("${words[0]}" __complete "$cword" "${words[@]}" 2>/dev/null) ||
	    return 0
	case $out in
	@dirs)	mapfile -t COMPREPLY < <(compgen -d -- "${words[cword]}") ;;
	@files)	mapfile -t COMPREPLY < <(compgen -f -- "${words[cword]}") ;;
	'')	COMPREPLY=() ;;
	*)	mapfile -t COMPREPLY <<<"$out" ;;
	esac
	if [ "$eq" = 1 ]; then
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]="=${COMPREPLY[i]}"
		done
	fi
	# SERVICE= of scale: let the count follow without a space.
	if [ "${#COMPREPLY[@]}" = 1 ] &&
	    [ "${COMPREPLY[0]%=}" != "${COMPREPLY[0]}" ]; then
		compopt -o nospace 2>/dev/null
	fi
	return 0
}
complete -F _shipctl shipctl
