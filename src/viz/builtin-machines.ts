import type { AnyStateMachine } from 'xstate';
import { checkpointMachine } from '../../machines/checkpoint.machine.js';
import { circuitBreakerMachine } from '../../machines/circuit-breaker.machine.js';
import { stageMachine } from '../../machines/stage.machine.js';
import { supervisorMachine } from '../../supervisors/supervisor.machine.js';

/** A machine that ships with steadfast, by the name `steadfast viz` and the docs' diagram regions use. */
export interface BuiltinMachine {
  name: string;
  machine: AnyStateMachine;
  /** One line: what the machine is. */
  summary: string;
}

/** The built-in machines, in the order `steadfast viz` lists them; one line each. */
export const builtinMachines: readonly BuiltinMachine[] = [
  { name: 'stage', machine: stageMachine, summary: 'one stage instance: open, take batches, call, close (machines/stage.machine.ts)' },
  { name: 'circuit-breaker', machine: circuitBreakerMachine, summary: 'closed, open, halfOpen, isolated (machines/circuit-breaker.machine.ts)' },
  { name: 'supervisor', machine: supervisorMachine, summary: 'restart decisions, intensity, escalation (supervisors/supervisor.machine.ts)' },
  { name: 'checkpoint', machine: checkpointMachine, summary: 'the snapshot writes of one stage instance: open, write, close (machines/checkpoint.machine.ts)' },
];

/** The built-in machine called `name`, if there is one. */
export function builtinMachine(name: string): BuiltinMachine | undefined {
  return builtinMachines.find((builtin) => builtin.name === name);
}
