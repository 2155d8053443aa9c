/** The sheets cards are printed on (cardSheet.ts lays them out). Its own module: the API validates a request with it without loading the PDF and QR stack. */
export const sheetKinds = ['cr80', 'a4'] as const;
export type SheetKind = (typeof sheetKinds)[number];
