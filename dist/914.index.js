export const id = 914;
export const ids = [914];
export const modules = {

/***/ 1914:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   postPullRequestComment: () => (/* binding */ postPullRequestComment)
/* harmony export */ });
/* unused harmony exports MAX_COMMENT_LENGTH, pullRequestTarget, commentMarker, runUrl, renderComment, DEFAULT_COMMENT_RETRY, upsertComment, findComment, isPermissionError */
/* harmony import */ var _base_log_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(2866);
/* harmony import */ var _actions_github__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(2413);
/* harmony import */ var _base_errors_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(4758);
/* harmony import */ var _markdown_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(4285);
/**
 * The sticky pull-request comment of preview deploys: one comment per stack, found again by a hidden
 * marker and edited in place on every push. A comment is a courtesy: nothing here ever fails a deploy,
 * every GitHub error becomes a `log.warning`.
 */




/** GitHub rejects comment bodies longer than this. */
const MAX_COMMENT_LENGTH = 65536;
const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target']);
/** The pull request the workflow runs for; undefined for any other event (push, schedule, …). */
function pullRequestTarget(context = _actions_github__WEBPACK_IMPORTED_MODULE_1__/* .context */ ._) {
    if (!PULL_REQUEST_EVENTS.has(context.eventName))
        return undefined;
    const number = context.payload.pull_request?.number;
    if (typeof number !== 'number')
        return undefined;
    try {
        const { owner, repo } = context.repo;
        return { owner, repo, issueNumber: number };
    }
    catch {
        // context.repo throws when neither GITHUB_REPOSITORY nor the payload names the repository.
        return undefined;
    }
}
/** The hidden line that identifies a stack's comment among all the pull request's comments. */
function commentMarker(stackName) {
    return `<!-- oci-stack-deploy stack=${stackName} -->`;
}
/** Link to the workflow run, or undefined when the context does not name one. */
function runUrl(context = _actions_github__WEBPACK_IMPORTED_MODULE_1__/* .context */ ._) {
    if (!context.serverUrl || !context.runId)
        return undefined;
    try {
        const { owner, repo } = context.repo;
        return `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
    }
    catch {
        return undefined;
    }
}
const HEADINGS = {
    deployed: (stack) => `Stack ${stack} deployed`,
    'no-changes': (stack) => `Stack ${stack} is up to date: no changes`,
    review: (stack) => `Stack ${stack}: change set ready for review, not executed`,
    failed: (stack) => `Stack ${stack}: deploy failed`,
    deleted: (stack) => `Stack ${stack}: preview deleted`
};
/** The comment's Markdown: marker, status heading, image and stack table, outputs, changes, footer. */
function renderComment(content) {
    const body = render(content, true);
    if (body.length <= MAX_COMMENT_LENGTH)
        return body;
    // The change set is the only part without a natural bound (one row per resource).
    return render(content, false).slice(0, MAX_COMMENT_LENGTH);
}
function render(content, withChanges) {
    const sections = [
        commentMarker(content.stackName),
        `### ${(0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .escapeMarkdownText */ .m4)(HEADINGS[content.state](content.stackName))}`
    ];
    if (content.state === 'deleted') {
        sections.push(`The preview stack ${(0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .markdownCode */ .D9)(content.stackName)} was deleted; its resources and URLs are gone.`);
    }
    const details = [];
    if (content.stackStatus)
        details.push(['Stack status', (0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .markdownCode */ .D9)(content.stackStatus)]);
    if (content.imageUri)
        details.push(['Image', (0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .markdownCode */ .D9)(content.imageUri)]);
    if (content.imageDigest)
        details.push(['Digest', (0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .markdownCode */ .D9)(content.imageDigest)]);
    if (details.length > 0)
        sections.push((0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .markdownTable */ .Qj)(['Item', 'Value'], details));
    if (content.state === 'failed') {
        sections.push((0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .fence */ .EU)(content.error?.trim() || 'No error message was given.'));
    }
    // Once the stack is deleted its outputs point nowhere.
    const outputs = Object.entries(content.outputs ?? {});
    if (content.state !== 'deleted' && outputs.length > 0) {
        sections.push('#### Stack outputs', (0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .markdownTable */ .Qj)(['Key', 'Value'], outputs.map(([key, value]) => [(0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .markdownCode */ .D9)(key), (0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .markdownLinkOrCode */ .Af)(value)])));
    }
    const changes = content.changesMarkdown?.trim() ?? '';
    if (content.state === 'review') {
        sections.push('#### Change set (not executed)');
        if (!withChanges) {
            sections.push('The change set is too long for a comment: see the job summary.');
        }
        else {
            sections.push(changes || 'The change set has no changes.');
        }
    }
    else if (changes && content.state !== 'deleted') {
        sections.push('#### Changes', withChanges ? changes : 'The change list is too long for a comment: see the job summary.');
    }
    const footer = [];
    if (content.buildId)
        footer.push(`Build ${(0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .markdownCode */ .D9)(content.buildId)}`);
    if (content.runUrl)
        footer.push(`[Workflow run](${(0,_markdown_js__WEBPACK_IMPORTED_MODULE_3__/* .linkDestination */ .Vh)(content.runUrl)})`);
    footer.push('oci-stack-deploy');
    sections.push(`<sub>${footer.join(' · ')}</sub>`);
    return sections.join('\n\n') + '\n';
}
/** Two retries, 1 s and 3 s apart: a 5xx from GitHub is usually gone within seconds. */
const DEFAULT_COMMENT_RETRY = { delaysMs: [1000, 3000] };
/**
 * Creates the stack's comment on the pull request, or updates the one found by its marker.
 * Never throws: a permission problem or any other GitHub error is a warning and 'skipped'. A server
 * error (5xx) or a lost connection is retried from the lookup on, so a create whose answer was
 * lost is found by its marker and updated, never posted twice.
 */
async function upsertComment(octokit, target, stackName, body, retry = DEFAULT_COMMENT_RETRY) {
    const where = `pull request #${target.issueNumber} (${target.owner}/${target.repo})`;
    const sleep = retry.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    for (let attempt = 0;; attempt++) {
        try {
            return await upsertOnce(octokit, target, stackName, body, where);
        }
        catch (error) {
            const delay = retry.delaysMs[attempt];
            const status = httpStatus(error);
            const transient = status === undefined || status >= 500;
            if (!transient || delay === undefined) {
                _base_log_js__WEBPACK_IMPORTED_MODULE_0__/* .warning */ .$e(commentWarning(error, stackName, where));
                return 'skipped';
            }
            _base_log_js__WEBPACK_IMPORTED_MODULE_0__/* .info */ .pq(`GitHub answered ${status ? `HTTP ${status}` : (0,_base_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .errorMessage */ .gJ)(error)} for the comment; trying again in ${delay / 1000} s.`);
            await sleep(delay);
        }
    }
}
async function upsertOnce(octokit, target, stackName, body, where) {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
        owner: target.owner,
        repo: target.repo,
        issue_number: target.issueNumber,
        per_page: 100
    });
    const existing = findComment(comments, stackName);
    if (existing) {
        const { data } = await octokit.rest.issues.updateComment({
            owner: target.owner,
            repo: target.repo,
            comment_id: existing.id,
            body
        });
        _base_log_js__WEBPACK_IMPORTED_MODULE_0__/* .info */ .pq(`Updated the comment for stack ${stackName} on ${where}: ${data.html_url ?? data.id}`);
        return 'updated';
    }
    const { data } = await octokit.rest.issues.createComment({
        owner: target.owner,
        repo: target.repo,
        issue_number: target.issueNumber,
        body
    });
    _base_log_js__WEBPACK_IMPORTED_MODULE_0__/* .info */ .pq(`Commented on ${where} for stack ${stackName}: ${data.html_url ?? data.id}`);
    return 'created';
}
/**
 * The comment carrying the stack's marker. One written by a bot (the workflow's GITHUB_TOKEN) wins over
 * one written by a person, who may have quoted it; with a personal token every match is by a user.
 */
function findComment(comments, stackName) {
    const marker = commentMarker(stackName);
    const matches = comments.filter((c) => c.body?.includes(marker));
    return matches.find((c) => c.user?.type === 'Bot') ?? matches[0];
}
/** True for the answers GitHub gives a token that may not comment here. */
function isPermissionError(error) {
    const status = httpStatus(error);
    return (status === 403 ||
        status === 404 ||
        /Resource not accessible by (integration|personal access token)/i.test((0,_base_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .errorMessage */ .gJ)(error)));
}
function httpStatus(error) {
    if (error !== null && typeof error === 'object' && 'status' in error) {
        const status = error.status;
        if (typeof status === 'number')
            return status;
    }
    return undefined;
}
function commentWarning(error, stackName, where) {
    const status = httpStatus(error);
    const reason = `${status ? `HTTP ${status}: ` : ''}${(0,_base_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .errorMessage */ .gJ)(error)}`;
    if (isPermissionError(error)) {
        return (`Could not write the comment for stack ${stackName} on ${where} (${reason}). ` +
            `The token may not write comments here: pull requests from forks get a read-only GITHUB_TOKEN, ` +
            `otherwise add 'permissions: { pull-requests: write, issues: write }' to the job. ` +
            `The deploy itself is not affected.`);
    }
    return `Could not write the comment for stack ${stackName} on ${where} (${reason}). The deploy itself is not affected.`;
}
/**
 * Renders and posts the stack's comment when the workflow runs for a pull request; 'skipped' (without
 * calling GitHub) for other events, and with a warning when there is no token.
 */
async function postPullRequestComment(token, stackName, content, context = _actions_github__WEBPACK_IMPORTED_MODULE_1__/* .context */ ._, octokitFactory = _actions_github__WEBPACK_IMPORTED_MODULE_1__/* .getOctokit */ .Q, retry = DEFAULT_COMMENT_RETRY) {
    const target = pullRequestTarget(context);
    if (!target)
        return 'skipped';
    if (!token.trim()) {
        _base_log_js__WEBPACK_IMPORTED_MODULE_0__/* .warning */ .$e(`No GitHub token to comment on pull request #${target.issueNumber}: set the 'github-token' input (default: github.token).`);
        return 'skipped';
    }
    try {
        const body = renderComment({
            ...content,
            stackName,
            runUrl: content.runUrl ?? runUrl(context)
        });
        return await upsertComment(octokitFactory(token), target, stackName, body, retry);
    }
    catch (error) {
        // upsertComment never throws; this catches a client that could not be built.
        _base_log_js__WEBPACK_IMPORTED_MODULE_0__/* .warning */ .$e(`Could not comment on pull request #${target.issueNumber} for stack ${stackName}: ${(0,_base_errors_js__WEBPACK_IMPORTED_MODULE_2__/* .errorMessage */ .gJ)(error)}. The deploy itself is not affected.`);
        return 'skipped';
    }
}


/***/ })

};
