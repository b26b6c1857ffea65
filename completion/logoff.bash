# bash completion for logoff(1)

_logoff_sessions()
{
    # Names and IDs from the listing; the first line is the header.
    logoff --list 2>/dev/null | awk 'NR > 1 { sub(/^[> ]/, ""); if (NF >= 5) print $1; print $(NF >= 6 ? NF-3 : NF-2) }'
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
