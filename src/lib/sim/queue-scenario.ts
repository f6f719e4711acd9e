// One station, Poisson arrivals, a fixed charge time: the scenario whose mean wait queueing theory
// knows exactly (mdc.ts). Built from the same parts as any scenario and run by the same engine.
import { buildCity } from './city';
import { resolveOptions } from './options';
import { hashString, Rng } from './random';
import type { Scenario, VehicleSpec } from './scenario';

export interface QueueScenarioOptions {
	seed: number;
	connectors: number;
	arrivalsPerHour: number;
	/** Fixed plug-in to unplug time, minutes. */
	chargeMinutes: number;
	/** Arrivals stop this many hours before the horizon, so every errand finishes. */
	arrivalHours: number;
	hours: number;
	/** Arrival times, hours, instead of Poisson arrivals (for exact checks). */
	arrivalTimesHours?: readonly number[];
}

const POWER_KW = 60;
const BATTERY_KWH = 100;
const START_SOC = 0.2;

export function buildQueueScenario(q: QueueScenarioOptions): Scenario {
	const energyKwh = (POWER_KW * q.chargeMinutes) / 60;
	const targetSoc = START_SOC + energyKwh / BATTERY_KWH;
	// Below 80 % the battery takes full power, so every session lasts exactly the charge time.
	if (targetSoc > 0.8)
		throw new RangeError(
			`a ${q.chargeMinutes} min charge at ${POWER_KW} kW would reach the battery's taper`
		);
	const options = resolveOptions({
		seed: q.seed,
		vehicles: 1,
		stations: 1,
		hours: q.hours,
		gridSize: 3,
		readingSample: 0,
		meterIntervalSeconds: 600,
		channelShare: 1,
		blockSeconds: 0
	});
	const rng = new Rng(hashString(`mdc arrivals ${q.seed}`));
	const arrivals: number[] = [];
	if (q.arrivalTimesHours) arrivals.push(...q.arrivalTimesHours);
	else
		for (
			let t = -Math.log(1 - rng.next()) / q.arrivalsPerHour;
			t < q.arrivalHours;
			t += -Math.log(1 - rng.next()) / q.arrivalsPerHour
		)
			arrivals.push(t);
	const vehicles: VehicleSpec[] = [];
	for (const t of arrivals) {
		const i = vehicles.length;
		const id = `EV-${String(i + 1).padStart(5, '0')}`;
		// Each vehicle appears at the station with a low battery at its arrival time, charges once
		// and ends its day.
		const shiftStart = t * 3600;
		vehicles.push({
			id,
			index: i,
			home: 0,
			batteryKwh: BATTERY_KWH,
			consumption: 0.18,
			maxChargeKw: POWER_KW,
			initialSoc: START_SOC,
			reserveSoc: START_SOC + 0.05,
			targetSoc,
			shiftStart,
			shiftEnd: shiftStart + 1,
			reserves: false,
			hasChannel: true,
			tripSeed: hashString(`${q.seed}:trips:${id}`),
			errandSeed: hashString(`${q.seed}:errands:${id}`)
		});
	}
	const city = buildCity(new Rng(q.seed).fork('city'), { gridSize: 3 });
	return {
		options: { ...options, vehicles: vehicles.length },
		city,
		stations: [
			{
				id: 'ST-001',
				index: 0,
				node: 0,
				connectors: q.connectors,
				connectorKw: POWER_KW,
				siteLimitKw: q.connectors * POWER_KW,
				feeder: 0,
				signingKey: '11'.repeat(32),
				pricePerKwhMsat: '250000',
				startFeeMsat: '1000'
			}
		],
		feeders: [{ index: 0, stations: [0], limitKw: Infinity }],
		vehicles
	};
}
