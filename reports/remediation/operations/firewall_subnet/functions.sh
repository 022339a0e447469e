# Create AzureFirewallSubnet in a VNet whose address space and subnets are those the scan saw.
add_firewall_subnet() {
    local sub=$1 rg=$2 vnet=$3 prefix=$4 scanned=$5 existing now
    existing=$(az_read network vnet subnet show --subscription="$sub" --resource-group="$rg" --vnet-name="$vnet" \
        --name=AzureFirewallSubnet --query="to_string(addressPrefix || addressPrefixes)" --output tsv)
    if [ "$existing" != "$ABSENT" ]; then
        unchanged "AzureFirewallSubnet exists ($existing)"
        return 0
    fi
    now=$(az_read network vnet show --subscription="$sub" --resource-group="$rg" --name="$vnet" --query="$VNET_STATE" --output tsv)
    info "now:  $now"
    if [ "$now" != "$scanned" ]; then
        skip "the VNet changed since the scan, which saw $scanned"
        return 0
    fi
    change network vnet subnet create --subscription="$sub" --resource-group="$rg" --vnet-name="$vnet" --name=AzureFirewallSubnet \
        --address-prefixes="$prefix" --output none
}
