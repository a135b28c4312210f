package conditions

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Gateway AddressesAssigned (GEP-5093): how spec.addresses were met, once
// the infrastructure has answered.

func GatewayAddressesAssigned() metav1.Condition {
	return cond(gwv1.GatewayConditionAddressesAssigned, true, gwv1.GatewayReasonAddressesAssigned, "Every requested address is assigned")
}

func GatewayAddressesPartiallyAssigned(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionAddressesAssigned, false, gwv1.GatewayReasonAddressesPartiallyAssigned, msg)
}

func GatewayAddressesNotAssigned(msg string) metav1.Condition {
	return cond(gwv1.GatewayConditionAddressesAssigned, false, gwv1.GatewayReasonAddressesNotAssigned, msg)
}
