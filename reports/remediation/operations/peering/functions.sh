# The peering of a VNet towards another VNet (by id, compared case-insensitively). Sets
# PEER_STATE (its peeringState; $ABSENT when there is none; 'no-vnet' when the VNet is gone),
# PEER_NAME, and NAME_TAKEN=yes when another peering of the VNet already has the name `wanted`.
find_peering() {
    local sub=$1 rg=$2 vnet=$3 remote=$4 wanted=$5 out id state name
    PEER_STATE=$ABSENT
    PEER_NAME=''
    NAME_TAKEN=no
    out=$(az_read network vnet peering list --subscription="$sub" --resource-group="$rg" --vnet-name="$vnet" \
        --query='[].[remoteVirtualNetwork.id, peeringState, name]' --output tsv)
    if [ "$out" = "$ABSENT" ]; then
        PEER_STATE=no-vnet
        return 0
    fi
    while IFS=$'\t' read -r id state name; do
        if [ -z "$id" ]; then
            continue
        elif same_id "$id" "$remote"; then
            PEER_STATE=$state
            PEER_NAME=$name
        elif [ "$(lower "$name")" = "$(lower "$wanted")" ]; then
            NAME_TAKEN=yes
        fi
    done <<<"$out"
}

# Make the peering between two VNets Connected on both sides: a side that has none gets one
# (--allow-vnet-access, --allow-forwarded-traffic: replies come back through the firewall); a
# Disconnected side cannot be repaired in place, so it is deleted and created again, which only a
# disruptive block ('delete') may do. The states must still be those the scan saw ('?': the scan
# could not read that side).
connect_peering() {
    local lsub=$1 lrg=$2 lvnet=$3 lid=$4 lname=$5 rsub=$6 rrg=$7 rvnet=$8 rid=$9 rname=${10}
    local lscan=${11} rscan=${12} deletes=${13} lstate ltaken rstate rtaken
    find_peering "$lsub" "$lrg" "$lvnet" "$rid" "$lname"
    lstate=$PEER_STATE ltaken=$NAME_TAKEN
    if [ -n "$PEER_NAME" ]; then lname=$PEER_NAME; fi
    find_peering "$rsub" "$rrg" "$rvnet" "$lid" "$rname"
    rstate=$PEER_STATE rtaken=$NAME_TAKEN
    if [ -n "$PEER_NAME" ]; then rname=$PEER_NAME; fi
    info "now:  $lvnet -> $rvnet: $lstate; $rvnet -> $lvnet: $rstate"
    if [ "$lstate" = Connected ] && [ "$rstate" = Connected ]; then
        unchanged "both peerings are Connected"
        return 0
    elif [ "$lstate" = no-vnet ] || [ "$rstate" = no-vnet ]; then
        skip "one of the VNets no longer exists"
        return 0
    elif [ "$lstate" != "$lscan" ] || { [ "$rscan" != '?' ] && [ "$rstate" != "$rscan" ]; }; then
        skip "the peerings changed since the scan, which saw $lvnet -> $rvnet: $lscan; $rvnet -> $lvnet: $rscan"
        return 0
    fi
    case "$lstate/$rstate" in
        "$ABSENT/$ABSENT" | "$ABSENT/Initiated" | "Initiated/$ABSENT" | "$ABSENT/Disconnected" | \
            "Disconnected/$ABSENT" | "Disconnected/Disconnected" | "Initiated/Disconnected" | "Disconnected/Initiated") ;;
        *)
            skip "no safe step from $lvnet -> $rvnet: $lstate; $rvnet -> $lvnet: $rstate"
            return 0
            ;;
    esac
    if { [ "$lstate" = Disconnected ] || [ "$rstate" = Disconnected ]; } && [ "$deletes" != delete ]; then
        skip "a Disconnected peering must be deleted and created again: generate with --include-disruptive"
        return 0
    elif { [ "$lstate" = "$ABSENT" ] && [ "$ltaken" = yes ]; } || { [ "$rstate" = "$ABSENT" ] && [ "$rtaken" = yes ]; }; then
        skip "the name $lname or $rname is taken by another peering: create the peering by hand"
        return 0
    fi
    if [ "$lstate" = Disconnected ]; then
        change network vnet peering delete --subscription="$lsub" --resource-group="$lrg" --vnet-name="$lvnet" \
            --name="$lname" --output none
        lstate=$ABSENT
    fi
    if [ "$rstate" = Disconnected ]; then
        change network vnet peering delete --subscription="$rsub" --resource-group="$rrg" --vnet-name="$rvnet" \
            --name="$rname" --output none
        rstate=$ABSENT
    fi
    if [ "$lstate" = "$ABSENT" ]; then
        change network vnet peering create --subscription="$lsub" --resource-group="$lrg" --vnet-name="$lvnet" \
            --name="$lname" --remote-vnet="$rid" --allow-vnet-access --allow-forwarded-traffic --output none
    fi
    if [ "$rstate" = "$ABSENT" ]; then
        change network vnet peering create --subscription="$rsub" --resource-group="$rrg" --vnet-name="$rvnet" \
            --name="$rname" --remote-vnet="$lid" --allow-vnet-access --allow-forwarded-traffic --output none
    fi
}
