import { describeReadme } from '../readme/describe-readme';

describeReadme('packages/attnviz/README.md', 'attnviz');
