import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCardQr, generateCardId } from '../../protocol/credentials/card.js';
import { sampleIdNumber } from '../../provisioning/samplePeople.js';
import { createCentralSite, qrgate } from '../helpers/centralSite.js';
import { freePort } from '../helpers/freePort.js';
import { scanOnce } from '../helpers/delivery.js';
import { useQrgateProcesses } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';

/**
 * A lost card, end to end with real processes: the card is issued, the member gets a new
 * one (`cards issue --reissue`), the operator publishes, and a terminal refuses the old
 * card as `revoked`, so the guard knows a lost card is in someone's hand, while the new
 * card opens the gate.
 */

const scope = 'site-a';

describe('a reissued card at a real terminal', () => {
  const tempDir = useTempDir('qrgate-e2e-revoked-');
  const { start } = useQrgateProcesses();


  it('refuses the old card as revoked after the reissue is published, and opens for the new one', async () => {
    const dir = tempDir();
    const site = await createCentralSite(dir, await freePort(), { people: 1 });
    const idNumber = sampleIdNumber(700_001);
    const csv = join(dir, 'members.csv');
    writeFileSync(csv, `name,phone,address,unit,scope,idNumber,status\n"Trần Văn Bảo",0905 123 001,"12 Lê Lợi, Huế",Xưởng 1,${scope},${idNumber},allow\n`);
    await qrgate(['members', 'import', '--central-config', site.centralConfig, csv]);
    const cards = ['cards', 'issue', '--central-config', site.centralConfig, '--id-number', idNumber, '--json'];
    const first = JSON.parse(await qrgate(cards)) as { cardId: string; qrText: string };
    await qrgate(['lists', 'publish', '--central-config', site.centralConfig, '--scope', scope]);
    const terminal = await site.addTerminal('gate-1', { lists: [scope] });

    start(['central', '--config', site.centralConfig]);
    const gate = start(['terminal', '--config', terminal.config], 'pipe');
    await gate.waitForLine((l) => l.msg === 'lists.synced' && l.version === 1, 60_000);
    expect(await scanOnce(gate, first.qrText)).toMatchObject({ decision: 'granted', reason: 'allowed', credentialType: 'card', listVersion: 1 });

    const second = JSON.parse(await qrgate([...cards, '--reissue'])) as { cardId: string; qrText: string; reissued: number };
    expect(second).toMatchObject({ reissued: 1 });
    expect(second.cardId).not.toBe(first.cardId);
    await qrgate(['lists', 'publish', '--central-config', site.centralConfig, '--scope', scope]);
    await gate.waitForLine((l) => l.msg === 'lists.applied' && l.version === 2, 60_000);

    expect(await scanOnce(gate, first.qrText)).toMatchObject({ decision: 'refused', reason: 'revoked', credentialType: 'card', listVersion: 2 });
    expect(await scanOnce(gate, second.qrText)).toMatchObject({ decision: 'granted', reason: 'allowed', credentialType: 'card', listVersion: 2 });
    // A card never issued is still unknown: revoked is news only about a card that was ours.
    expect(await scanOnce(gate, formatCardQr(generateCardId()))).toMatchObject({ decision: 'refused', reason: 'unknown', credentialType: 'card' });
  });
});
