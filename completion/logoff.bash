# bash completion for logoff(1)

_logoff_sessions()
{
    # Names and IDs, one cell each: --raw writes a space in a cell as \x20.
    logoff --list --output=SESSIONNAME,ID --raw --noheadings 2>/dev/null |
        awk '{ if ($1 != "-") print $1; print $2 }'
}

_logoff_users()
{
    # The users that have sessions (none blank, none that --raw had to
    # escape); the host's users when none shows.
    local users
    users=$(logoff --list --output=USERNAME --raw --noheadings 2>/dev/null |
        awk '$0 != "-" && !/\\x/' | sort -u)
    if [[ -n $users ]]; then
        printf '%s\n' "$users"
    else
        compgen -u
    fi
}

_logoff_columns()
{
    # The column names as this logoff's --help lists them.
    LC_ALL=C logoff --help 2>/dev/null |
        awk '/^Available output columns/ { f = 1; next } f && !/^ / { exit } f { print $1 }'
}

# Readline splits "--user=al" at "=" and "/server:h" at ":" (they are in
# COMP_WORDBREAKS), so COMP_WORDS has "--user" "=" "al": take the word
# whole from the line, and give back only what follows its last "=" or ":",
# which is what readline replaces.  COMP_WORDS set by hand (no COMP_LINE)
# are taken as they are.
_logoff()
{
    local cur prev keep=""
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    if [[ -n $COMP_LINE && $COMP_WORDBREAKS == *[=:]* ]]; then
        local line=${COMP_LINE:0:COMP_POINT} before
        cur=${line##*[[:space:]]}
        before=${line%"$cur"}
        before=${before%"${before##*[![:space:]]}"}
        prev=${before##*[[:space:]]}
        [[ $cur == *[=:]* ]] && keep=${cur%"${cur##*[=:]}"}
    fi
    _logoff_reply
    [[ -n $keep ]] && COMPREPLY=( "${COMPREPLY[@]#"$keep"}" )
}

_logoff_reply()
{

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
        --user)
            _logoff_complete_list "$cur" "" "$(_logoff_users)"
            return
            ;;
        --type)
            _logoff_complete_list "$cur" "" 'tty x11 wayland mir web rdp x2go unspecified'
            return
            ;;
        --state)
            COMPREPLY=( $(compgen -W 'active disc' -- "$cur") )
            return
            ;;
        -t|--timeout|--grace|--idle)
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
        --user=*)
            _logoff_complete_list "${cur#--user=}" --user= "$(_logoff_users)"
            return
            ;;
        --type=*)
            _logoff_complete_list "${cur#--type=}" --type= 'tty x11 wayland mir web rdp x2go unspecified'
            return
            ;;
        --state=*)
            COMPREPLY=( $(compgen -P --state= -W 'active disc' -- "${cur#--state=}") )
            return
            ;;
        --idle=*)
            return
            ;;
        -*|/?*)
            COMPREPLY=( $(compgen -W '/v /server: /? --verbose --server= --list --json
                --output= --noheadings --raw --timeout= --dry-run --warn --warn= --grace=
                --backend= --user= --idle= --state= --type= --all --help --version
                -l -n -o -t -h' -- "$cur") )
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

# The same for --user's names and --type's types, as they are spelt.
_logoff_complete_list()
{
    local word=$1 prefix=$2 names=$3 done="" last
    if [[ $word == *,* ]]; then
        done=${word%,*},
        last=${word##*,}
    else
        last=$word
    fi
    COMPREPLY=( $(compgen -P "$prefix$done" -W "$names" -- "$last") )
    compopt -o nospace 2>/dev/null
}
complete -F _logoff logoff
