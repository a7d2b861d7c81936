// Jobs: every job with its executions counted by status, one job's per-thing execution
// table, cancel (force: IN_PROGRESS too). AWS IoT Jobs' own shapes through /admin/iot
// (ListJobs, DescribeJob, ListJobExecutionsForJob, CancelJob).
import * as api from '../api.js';
import {el, clear, table, toast, button} from '../ui.js';

const COUNTS = [
  ['numberOfQueuedThings', 'queued'], ['numberOfInProgressThings', 'in progress'],
  ['numberOfSucceededThings', 'succeeded'], ['numberOfFailedThings', 'failed'],
  ['numberOfTimedOutThings', 'timed out'], ['numberOfRejectedThings', 'rejected'],
  ['numberOfCanceledThings', 'canceled'], ['numberOfRemovedThings', 'removed'],
];

/** "3 queued, 1 succeeded" from a JobProcessDetails (zeros left out). */
export function countsText(details) {
  const parts = COUNTS.filter(([k]) => (details || {})[k]).map(([k, label]) => `${details[k]} ${label}`);
  return parts.length ? parts.join(', ') : 'no executions';
}

function time(seconds) {
  return seconds ? new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
}

export default function jobs(container) {
  const list = el('div', {id: 'jobs-list'}, 'Loading…');
  const detail = el('div', {id: 'job-detail'});
  container.append(el('h1', {}, 'Jobs'),
    el('p', {class: 'muted'}, 'Create jobs with aws iot create-job or iotblocks jobs create; devices run them over MQTT.'),
    list, detail);

  async function cancel(id, force) {
    if (!confirm(`Cancel job ${id}${force ? ' (force: in-progress executions too)' : ''}?`)) return;
    try {
      await api.admin('PUT', `/iot/jobs/${api.enc(id)}/cancel${force ? '?force=true' : ''}`, {});
      toast('Canceled ' + id);
      await load();
      await show(id);
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function show(id) {
    clear(detail);
    try {
      const [{job}, execs] = await Promise.all([
        api.admin('GET', '/iot/jobs/' + api.enc(id)),
        api.admin('GET', `/iot/jobs/${api.enc(id)}/things?maxResults=250`),
      ]);
      const rows = (execs.executionSummaries || []).map((x) => {
        const s = x.jobExecutionSummary || {};
        return [x.thingArn.replace(/^.*:thing\//, ''),
          el('span', {class: 'status status-' + String(s.status).toLowerCase()}, s.status),
          String(s.executionNumber ?? ''), String(s.retryAttempt ?? 0),
          time(s.queuedAt), time(s.startedAt), time(s.lastUpdatedAt)];
      });
      const open = job.status === 'IN_PROGRESS';
      detail.append(el('section', {class: 'card', id: 'job-card'},
        el('h2', {}, 'Job ', el('code', {}, job.jobId), ' — ', el('span', {id: 'job-status'}, job.status)),
        job.description ? el('p', {}, job.description) : null,
        el('p', {class: 'muted', id: 'job-counts'}, countsText(job.jobProcessDetails)),
        el('p', {class: 'muted'}, 'Targets: ', (job.targets || []).map((t) => el('code', {}, t.replace(/^.*:/, '') + ' '))),
        table(['Thing', 'Status', 'Execution', 'Retry', 'Queued', 'Started', 'Last update'], rows,
          {id: 'job-executions'}),
        el('div', {class: 'actions'},
          open || job.status === 'CANCELED' ? button('Cancel job', () => cancel(job.jobId, false), {id: 'job-cancel', class: 'danger', disabled: !open}) : null,
          open || job.status === 'CANCELED' ? button('Force cancel', () => cancel(job.jobId, true), {id: 'job-force-cancel', class: 'danger'}) : null)));
    } catch (e) {
      detail.append(el('p', {class: 'error'}, e.message));
    }
  }

  async function load() {
    try {
      const data = await api.admin('GET', '/iot/jobs?maxResults=250');
      const described = await Promise.all((data.jobs || []).map((j) =>
        api.admin('GET', '/iot/jobs/' + api.enc(j.jobId)).then((d) => d.job).catch(() => j)));
      const rows = described.map((j) => [
        el('a', {href: '#/jobs', class: 'job-link', dataset: {job: j.jobId},
          onclick: (ev) => { ev.preventDefault(); show(j.jobId); }}, j.jobId),
        j.status, j.targetSelection || '', countsText(j.jobProcessDetails), time(j.createdAt),
      ]);
      clear(list).append(table(['Job', 'Status', 'Selection', 'Executions', 'Created'], rows, {id: 'jobs-table'}));
    } catch (e) {
      clear(list).append(el('p', {class: 'error'}, e.message));
    }
  }
  load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, 5000);
  return () => clearInterval(timer);
}
