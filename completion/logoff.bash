# bash completion for logoff(1)

_logoff_sessions()
{
    # Names and IDs, one cell each: --raw writes a space in a cell as \x20.
    logoff --list --output=SESSIONNAME,ID --raw --noheadings 2>/dev/null |
        awk '{ if ($1 != "-") print $1; print $2 }'
}

_logoff_columns()
{
    # The column names as this logoff's --help lists them.
    LC_ALL=C logoff --help 2>/dev/null |
        awk '/^Available output columns/ { f = 1; next } f && !/^ / { exit } f { print $1 }'
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
        -o|--output)
            _logoff_complete_columns "$cur" ""
            return
            ;;
        --backend)
            COMPREPLY=( $(compgen -W 'auto logind kernel' -- "$cur") )
            return
            ;;
        -t|--timeout|--grace)
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
        --output=*)
            _logoff_complete_columns "${cur#--output=}" --output=
            return
            ;;
        --backend=*)
            COMPREPLY=( $(compgen -P --backend= -W 'auto logind kernel' -- "${cur#--backend=}") )
            return
            ;;
        -*|/?*)
            COMPREPLY=( $(compgen -W '/v /server: /? --verbose --server= --list --json
                --output= --noheadings --raw --timeout= --dry-run --warn --warn= --grace=
                --backend= --help --version -l -n -o -t -h' -- "$cur") )
            [[ $COMPREPLY == *[:=] ]] && compopt -o nospace
            return
            ;;
    esac

    COMPREPLY=( $(compgen -W "$(_logoff_sessions)" -- "$cur") )
}

# A comma-separated list: complete its last name, keep what is before it.
_logoff_complete_columns()
{
    local word=$1 prefix=$2 done="" last
    [[ $word == +* ]] && { done=+; word=${word#+}; }
    if [[ $word == *,* ]]; then
        done+=${word%,*},
        last=${word##*,}
    else
        last=$word
    fi
    COMPREPLY=( $(compgen -P "$prefix$done" -W "$(_logoff_columns)" -- "${last^^}") )
    compopt -o nospace 2>/dev/null
}
complete -F _logoff logoff
