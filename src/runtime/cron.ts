/**
 * Cron schedules for `bus.schedule()`, parsed by cron-parser: checked when the task is
 * declared, so a typo fails at start with the expression in the message.
 */
import { CronExpressionParser } from '../vendor/cron-parser.js';

export interface CronSchedule {
  /** The next time after `from` the task is due. */
  next(from: Date): Date;
}

export function parseCronExpression(expression: string): CronSchedule {
  try {
    CronExpressionParser.parse(expression);
  } catch (error) {
    throw new TypeError(`"${expression}" is not a valid cron expression (e.g. "*/5 * * * *" for every five minutes): ${(error as Error).message}`);
  }
  return {
    next(from: Date) {
      return CronExpressionParser.parse(expression, { currentDate: from }).next().toDate();
    },
  };
}
