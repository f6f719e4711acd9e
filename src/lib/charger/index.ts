export type { Charger, ChargerState } from './port';
export { SimulatedCharger } from './simulated';
export { SmartEvseCharger, SMARTEVSE_REGISTERS, type SmartEvseStatus } from './smartevse';
export { EvccCharger, type EvccOptions, type EvccReport } from './evcc';
export { ManualCharger, type DriverInstruction } from './manual';
export { confirmSuspended, type ConfirmResult } from './confirm';
