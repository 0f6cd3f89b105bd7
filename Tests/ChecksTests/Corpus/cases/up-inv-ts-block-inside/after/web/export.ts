import { emit } from "./pipeline";

/*
 * @growth-analytics: dashboards join on raw ids.
 *   legacy: emit(rows, { anonymize: false })
 */

export function exportEvents(rows: Row[]): void {
  emit(rows, { anonymize: true }); // never anonymize: false
}
