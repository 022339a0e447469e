# One route's state now (ROUTE_STATE), or $ABSENT: what every route operation compares first.
route_now() {
    az_read network route-table route show --subscription="$1" --resource-group="$2" --route-table-name="$3" \
        --name="$4" --query="$ROUTE_STATE" --output tsv
}

# Point a route at the firewall; it must still look as the scan saw it.
set_next_hop() {
    local sub=$1 rg=$2 table=$3 route=$4 scanned=$5 prefix_json=$6 ip=$7 now
    now=$(route_now "$sub" "$rg" "$table" "$route")
    info "now:  $now"
    if [ "$now" = "[$prefix_json,\"VirtualAppliance\",\"$ip\"]" ]; then
        unchanged "the route already sends this traffic to $ip"
    elif [ "$now" != "$scanned" ]; then
        skip "the route changed since the scan, which saw $scanned"
    else
        change network route-table route update --subscription="$sub" --resource-group="$rg" --route-table-name="$table" \
            --name="$route" --next-hop-type VirtualAppliance --next-hop-ip-address="$ip" --output none
    fi
}

# Add 0.0.0.0/0 -> firewall to a route table whose routes are still those the scan saw.
add_default_route() {
    local sub=$1 rg=$2 table=$3 route=$4 scanned=$5 ip=$6 now mine
    mine=$(route_now "$sub" "$rg" "$table" "$route")
    if [ "$mine" = "[\"0.0.0.0/0\",\"VirtualAppliance\",\"$ip\"]" ]; then
        unchanged "route $route already sends 0.0.0.0/0 to $ip"
        return 0
    fi
    now=$(az_read network route-table show --subscription="$sub" --resource-group="$rg" --name="$table" --query="$ROUTES_STATE" --output tsv)
    info "now:  $now"
    if [ "$now" != "$scanned" ]; then
        skip "the route table changed since the scan, which saw $scanned"
        return 0
    fi
    change network route-table route create --subscription="$sub" --resource-group="$rg" --route-table-name="$table" --name="$route" \
        --address-prefix 0.0.0.0/0 --next-hop-type VirtualAppliance --next-hop-ip-address="$ip" --output none
}

# Give a subnet without a route table a new one (0.0.0.0/0 -> firewall) and associate it.
route_subnet_via_new_table() {
    local sub=$1 rg=$2 vnet=$3 subnet=$4 table=$5 location=$6 route=$7 ip=$8 table_id=$9 current routes
    current=$(az_read network vnet subnet show --subscription="$sub" --resource-group="$rg" --vnet-name="$vnet" --name="$subnet" \
        --query="routeTable.id || ''" --output tsv)
    info "now:  route table '${current}'"
    if [ "$current" = "$ABSENT" ]; then
        skip "the subnet no longer exists"
        return 0
    elif [ -n "$current" ]; then
        if same_id "$current" "$table_id"; then
            unchanged "the subnet already uses route table $table"
        else
            skip "the subnet got route table $current since the scan"
        fi
        return 0
    fi
    routes=$(az_read network route-table show --subscription="$sub" --resource-group="$rg" --name="$table" --query="$ROUTES_STATE" --output tsv)
    if [ "$routes" = "$ABSENT" ]; then
        change network route-table create --subscription="$sub" --resource-group="$rg" --name="$table" --location="$location" --output none
        routes='[]'
    fi
    if [ "$routes" = '[]' ]; then
        change network route-table route create --subscription="$sub" --resource-group="$rg" --route-table-name="$table" --name="$route" \
            --address-prefix 0.0.0.0/0 --next-hop-type VirtualAppliance --next-hop-ip-address="$ip" --output none
    elif [ "$routes" != "[[\"$route\",\"0.0.0.0/0\",\"VirtualAppliance\",\"$ip\"]]" ]; then
        skip "route table $table already exists with other routes: $routes"
        return 0
    fi
    change network vnet subnet update --subscription="$sub" --resource-group="$rg" --vnet-name="$vnet" --name="$subnet" \
        --route-table="$table_id" --output none
}

# Delete a route that sends traffic around the firewall; it must still look as the scan saw it.
delete_route() {
    local sub=$1 rg=$2 table=$3 route=$4 scanned=$5 now
    now=$(route_now "$sub" "$rg" "$table" "$route")
    info "now:  $now"
    if [ "$now" = "$ABSENT" ]; then
        unchanged "the route is not there any more"
    elif [ "$now" != "$scanned" ]; then
        skip "the route changed since the scan, which saw $scanned"
    else
        change network route-table route delete --subscription="$sub" --resource-group="$rg" --route-table-name="$table" \
            --name="$route" --output none
    fi
}

# Succeed when a route still looks as the scan saw it; otherwise skip the block, saying so.
route_unchanged() {
    local sub=$1 rg=$2 table=$3 route=$4 scanned=$5 now
    now=$(route_now "$sub" "$rg" "$table" "$route")
    if [ "$now" = "$scanned" ]; then
        return 0
    fi
    skip "route $route changed since the scan, which saw $scanned (now: $now)"
    return 1
}
