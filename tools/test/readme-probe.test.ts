import { describeReadme } from '../readme/describe-readme';

describeReadme('packages/probe/README.md', 'probe');
