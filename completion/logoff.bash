# bash completion for logoff(1)

_logoff_sessions()
{
    # Names and IDs from the listing, cut at the header's columns (names and
    # devices may be empty, so fields cannot be counted).
    logoff --list 2>/dev/null | awk '
        NR == 1 { u = index($0, "USERNAME"); i = index($0, " ID") + 3; next }
        {
            name = substr($0, 2, u - 2); gsub(/ /, "", name)
            if (name != "") print name
            n = split(substr($0, u, i - u), f, " "); print f[n]
        }'
}

_logoff()
{
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    case $prev in
        --server|-server)
            COMPREPLY=( $(compgen -A hostname -- "$cur") )
            return
            ;;
        -t|--timeout)
            return
            ;;
    esac

    case $cur in
        /server:*|-server:*)
            local prefix=${cur%%:*}:
            COMPREPLY=( $(compgen -P "$prefix" -A hostname -- "${cur#*:}") )
            return
            ;;
        --server=*)
            COMPREPLY=( $(compgen -P --server= -A hostname -- "${cur#--server=}") )
            return
            ;;
        -*|/?*)
            COMPREPLY=( $(compgen -W '/v /server: /? --verbose --server= --list --json
                --timeout= --dry-run --help --version -l -n -t -h' -- "$cur") )
            [[ $COMPREPLY == *[:=] ]] && compopt -o nospace
            return
            ;;
    esac

    COMPREPLY=( $(compgen -W "$(_logoff_sessions)" -- "$cur") )
}
complete -F _logoff logoff
